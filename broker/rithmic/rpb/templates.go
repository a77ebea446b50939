// templates.go: the template ids deskguard speaks and the message type of
// each. Ids as listed by rundef/async_rithmic, async_rithmic/plants/base.py
// (TEMPLATES_MAP): requests are even, their responses the next odd id;
// 150/151, 351–353, 356 and 450/451 are pushed.

package rpb

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Template ids.
const (
	TLoginRequest              int32 = 10
	TLoginResponse             int32 = 11
	TLogoutRequest             int32 = 12
	TLogoutResponse            int32 = 13
	TSystemInfoRequest         int32 = 16
	TSystemInfoResponse        int32 = 17
	THeartbeatRequest          int32 = 18
	THeartbeatResponse         int32 = 19
	TReject                    int32 = 75
	TForcedLogout              int32 = 77
	TMarketDataRequest         int32 = 100
	TMarketDataResponse        int32 = 101
	TFrontMonthRequest         int32 = 113
	TFrontMonthResponse        int32 = 114
	TLastTrade                 int32 = 150
	TBestBidOffer              int32 = 151
	TLoginInfoRequest          int32 = 300
	TLoginInfoResponse         int32 = 301
	TAccountListRequest        int32 = 302
	TAccountListResponse       int32 = 303
	TAccountRmsInfoRequest     int32 = 304
	TAccountRmsInfoResponse    int32 = 305
	TOrderUpdatesRequest       int32 = 308
	TOrderUpdatesResponse      int32 = 309
	TTradeRoutesRequest        int32 = 310
	TTradeRoutesResponse       int32 = 311
	TNewOrderRequest           int32 = 312
	TNewOrderResponse          int32 = 313
	TModifyOrderRequest        int32 = 314
	TModifyOrderResponse       int32 = 315
	TCancelOrderRequest        int32 = 316
	TCancelOrderResponse       int32 = 317
	TShowOrdersRequest         int32 = 320
	TShowOrdersResponse        int32 = 321
	TBracketOrderRequest       int32 = 330
	TBracketOrderResponse      int32 = 331
	TUpdateTargetRequest       int32 = 332
	TUpdateTargetResponse      int32 = 333
	TUpdateStopRequest         int32 = 334
	TUpdateStopResponse        int32 = 335
	TBracketUpdatesRequest     int32 = 336
	TBracketUpdatesResponse    int32 = 337
	TShowBracketsRequest       int32 = 338
	TShowBracketsResponse      int32 = 339
	TShowBracketStopsRequest   int32 = 340
	TShowBracketStopsResponse  int32 = 341
	TCancelAllRequest          int32 = 346
	TCancelAllResponse         int32 = 347
	TRithmicOrderNotification  int32 = 351
	TExchangeOrderNotification int32 = 352
	TBracketUpdates            int32 = 353
	TAccountRmsUpdates         int32 = 356
	TPnLUpdatesRequest         int32 = 400
	TPnLUpdatesResponse        int32 = 401
	TPnLSnapshotRequest        int32 = 402
	TPnLSnapshotResponse       int32 = 403
	TInstrumentPnL             int32 = 450
	TAccountPnL                int32 = 451
	TExitPositionRequest       int32 = 3504
	TExitPositionResponse      int32 = 3505
	TReplayExecutionsRequest   int32 = 3506
	TReplayExecutionsResponse  int32 = 3507
	TAccountRmsUpdatesRequest  int32 = 3508 // pbeets/rithmic-rs README (API table); not in async_rithmic
	TAccountRmsUpdatesResponse int32 = 3509
)

// FieldTemplateID is the field number of template_id in every message.
const FieldTemplateID fieldNumber = 154467

type fieldNumber = protoreflect.FieldNumber

var registry = map[int32]func() proto.Message{
	TLoginRequest:              func() proto.Message { return &RequestLogin{} },
	TLoginResponse:             func() proto.Message { return &ResponseLogin{} },
	TLogoutRequest:             func() proto.Message { return &RequestLogout{} },
	TLogoutResponse:            func() proto.Message { return &ResponseLogout{} },
	TSystemInfoRequest:         func() proto.Message { return &RequestRithmicSystemInfo{} },
	TSystemInfoResponse:        func() proto.Message { return &ResponseRithmicSystemInfo{} },
	THeartbeatRequest:          func() proto.Message { return &RequestHeartbeat{} },
	THeartbeatResponse:         func() proto.Message { return &ResponseHeartbeat{} },
	TReject:                    func() proto.Message { return &Reject{} },
	TForcedLogout:              func() proto.Message { return &ForcedLogout{} },
	TMarketDataRequest:         func() proto.Message { return &RequestMarketDataUpdate{} },
	TMarketDataResponse:        func() proto.Message { return &ResponseMarketDataUpdate{} },
	TFrontMonthRequest:         func() proto.Message { return &RequestFrontMonthContract{} },
	TFrontMonthResponse:        func() proto.Message { return &ResponseFrontMonthContract{} },
	TLastTrade:                 func() proto.Message { return &LastTrade{} },
	TBestBidOffer:              func() proto.Message { return &BestBidOffer{} },
	TLoginInfoRequest:          func() proto.Message { return &RequestLoginInfo{} },
	TLoginInfoResponse:         func() proto.Message { return &ResponseLoginInfo{} },
	TAccountListRequest:        func() proto.Message { return &RequestAccountList{} },
	TAccountListResponse:       func() proto.Message { return &ResponseAccountList{} },
	TAccountRmsInfoRequest:     func() proto.Message { return &RequestAccountRmsInfo{} },
	TAccountRmsInfoResponse:    func() proto.Message { return &ResponseAccountRmsInfo{} },
	TOrderUpdatesRequest:       func() proto.Message { return &RequestSubscribeForOrderUpdates{} },
	TOrderUpdatesResponse:      func() proto.Message { return &ResponseSubscribeForOrderUpdates{} },
	TTradeRoutesRequest:        func() proto.Message { return &RequestTradeRoutes{} },
	TTradeRoutesResponse:       func() proto.Message { return &ResponseTradeRoutes{} },
	TNewOrderRequest:           func() proto.Message { return &RequestNewOrder{} },
	TNewOrderResponse:          func() proto.Message { return &ResponseNewOrder{} },
	TModifyOrderRequest:        func() proto.Message { return &RequestModifyOrder{} },
	TModifyOrderResponse:       func() proto.Message { return &ResponseModifyOrder{} },
	TCancelOrderRequest:        func() proto.Message { return &RequestCancelOrder{} },
	TCancelOrderResponse:       func() proto.Message { return &ResponseCancelOrder{} },
	TShowOrdersRequest:         func() proto.Message { return &RequestShowOrders{} },
	TShowOrdersResponse:        func() proto.Message { return &ResponseShowOrders{} },
	TBracketOrderRequest:       func() proto.Message { return &RequestBracketOrder{} },
	TBracketOrderResponse:      func() proto.Message { return &ResponseBracketOrder{} },
	TUpdateTargetRequest:       func() proto.Message { return &RequestUpdateTargetBracketLevel{} },
	TUpdateTargetResponse:      func() proto.Message { return &ResponseUpdateTargetBracketLevel{} },
	TUpdateStopRequest:         func() proto.Message { return &RequestUpdateStopBracketLevel{} },
	TUpdateStopResponse:        func() proto.Message { return &ResponseUpdateStopBracketLevel{} },
	TBracketUpdatesRequest:     func() proto.Message { return &RequestSubscribeToBracketUpdates{} },
	TBracketUpdatesResponse:    func() proto.Message { return &ResponseSubscribeToBracketUpdates{} },
	TShowBracketsRequest:       func() proto.Message { return &RequestShowBrackets{} },
	TShowBracketsResponse:      func() proto.Message { return &ResponseShowBrackets{} },
	TShowBracketStopsRequest:   func() proto.Message { return &RequestShowBracketStops{} },
	TShowBracketStopsResponse:  func() proto.Message { return &ResponseShowBracketStops{} },
	TCancelAllRequest:          func() proto.Message { return &RequestCancelAllOrders{} },
	TCancelAllResponse:         func() proto.Message { return &ResponseCancelAllOrders{} },
	TRithmicOrderNotification:  func() proto.Message { return &RithmicOrderNotification{} },
	TExchangeOrderNotification: func() proto.Message { return &ExchangeOrderNotification{} },
	TBracketUpdates:            func() proto.Message { return &BracketUpdates{} },
	TAccountRmsUpdates:         func() proto.Message { return &AccountRmsUpdates{} },
	TPnLUpdatesRequest:         func() proto.Message { return &RequestPnLPositionUpdates{} },
	TPnLUpdatesResponse:        func() proto.Message { return &ResponsePnLPositionUpdates{} },
	TPnLSnapshotRequest:        func() proto.Message { return &RequestPnLPositionSnapshot{} },
	TPnLSnapshotResponse:       func() proto.Message { return &ResponsePnLPositionSnapshot{} },
	TInstrumentPnL:             func() proto.Message { return &InstrumentPnLPositionUpdate{} },
	TAccountPnL:                func() proto.Message { return &AccountPnLPositionUpdate{} },
	TExitPositionRequest:       func() proto.Message { return &RequestExitPosition{} },
	TExitPositionResponse:      func() proto.Message { return &ResponseExitPosition{} },
	TReplayExecutionsRequest:   func() proto.Message { return &RequestReplayExecutions{} },
	TReplayExecutionsResponse:  func() proto.Message { return &ResponseReplayExecutions{} },
	TAccountRmsUpdatesRequest:  func() proto.Message { return &RequestAccountRmsUpdates{} },
	TAccountRmsUpdatesResponse: func() proto.Message { return &ResponseAccountRmsUpdates{} },
}

// New returns an empty message of the template, or nil for an id this
// package does not know.
func New(tpl int32) proto.Message {
	if f := registry[tpl]; f != nil {
		return f()
	}
	return nil
}

// Templates lists every template id New knows.
func Templates() []int32 {
	out := make([]int32, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	return out
}

// SetTemplate stores tpl in m's template_id field.
func SetTemplate(m proto.Message, tpl int32) {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByNumber(FieldTemplateID)
	if fd != nil {
		r.Set(fd, protoreflect.ValueOfInt32(tpl))
	}
}

// GetTemplate reads m's template_id field (0 when it has none).
func GetTemplate(m proto.Message) int32 {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByNumber(FieldTemplateID)
	if fd == nil {
		return 0
	}
	return int32(r.Get(fd).Int())
}
