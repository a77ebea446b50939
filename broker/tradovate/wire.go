// This file is the Tradovate wire format as the connector reads and writes
// it: REST bodies, entities, and the WebSocket frames and requests. Field
// names are the published swagger's (services.swagger.yaml,
// components/schemas, in the public tradovate/example-api-csharp-trading
// repository); testdata/wire holds payloads in the real shape that this
// file and the venue's are both checked against (TestWireOracle).

package tradovate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

type accessTokenRequest struct {
	Name       string `json:"name"`
	Password   string `json:"password"`
	AppID      string `json:"appId"`
	AppVersion string `json:"appVersion"`
	CID        int64  `json:"cid"`
	Sec        string `json:"sec"`
	DeviceID   string `json:"deviceId"`
}

type accessTokenResponse struct {
	ErrorText      string `json:"errorText"`
	AccessToken    string `json:"accessToken"`
	MDAccessToken  string `json:"mdAccessToken"`
	ExpirationTime string `json:"expirationTime"`
	UserID         int64  `json:"userId"`
	Name           string `json:"name"`
}

// penalty is the body of a rate-limit penalty ticket (HTTP 200, or the d
// of a WebSocket reply): wait p-time seconds and send the same body again
// with p-ticket added; p-captcha means a third-party application cannot
// go on and should try again in an hour (example-api-faq
// docs/HowToHandleRequestLimits.md; the socket case:
// example-code/user-sync-request/src/socket/tvSocket.js, subscribe).
type penalty struct {
	Ticket  string  `json:"p-ticket"`
	Time    float64 `json:"p-time"`
	Captcha bool    `json:"p-captcha"`
}

type account struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	UserID int64  `json:"userId"`
	Active bool   `json:"active"`
}

type contract struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type orderReq struct {
	AccountSpec string    `json:"accountSpec,omitempty"`
	AccountID   int64     `json:"accountId,omitempty"`
	ClOrdID     string    `json:"clOrdId,omitempty"`
	Action      string    `json:"action"`
	Symbol      string    `json:"symbol,omitempty"`
	OrderQty    int64     `json:"orderQty,omitempty"`
	OrderType   string    `json:"orderType"`
	Price       *float64  `json:"price,omitempty"`
	StopPrice   *float64  `json:"stopPrice,omitempty"`
	TimeInForce string    `json:"timeInForce,omitempty"`
	Text        string    `json:"text,omitempty"`
	IsAutomated bool      `json:"isAutomated,omitempty"`
	Bracket1    *orderReq `json:"bracket1,omitempty"`
	Bracket2    *orderReq `json:"bracket2,omitempty"`
}

type placeResult struct {
	FailureReason string `json:"failureReason"`
	FailureText   string `json:"failureText"`
	OrderID       int64  `json:"orderId"`
	OSO1ID        int64  `json:"oso1Id"`
	OSO2ID        int64  `json:"oso2Id"`
}

type modifyReq struct {
	OrderID     int64    `json:"orderId"`
	OrderQty    int64    `json:"orderQty"`
	OrderType   string   `json:"orderType"`
	Price       *float64 `json:"price,omitempty"`
	StopPrice   *float64 `json:"stopPrice,omitempty"`
	TimeInForce string   `json:"timeInForce,omitempty"`
	IsAutomated bool     `json:"isAutomated"`
}

type cancelReq struct {
	OrderID     int64 `json:"orderId"`
	IsAutomated bool  `json:"isAutomated"`
}

type liquidateReq struct {
	AccountID   int64 `json:"accountId"`
	ContractID  int64 `json:"contractId"`
	Admin       bool  `json:"admin"`
	IsAutomated bool  `json:"isAutomated"`
}

type commandResult struct {
	FailureReason string `json:"failureReason"`
	FailureText   string `json:"failureText"`
	CommandID     int64  `json:"commandId"`
}

// Entities.

type orderEnt struct {
	ID         int64  `json:"id"`
	AccountID  int64  `json:"accountId"`
	ContractID int64  `json:"contractId"`
	Timestamp  string `json:"timestamp"`
	Action     string `json:"action"`
	OrdStatus  string `json:"ordStatus"`
	Admin      bool   `json:"admin"`
	OCOID      int64  `json:"ocoId,omitempty"`
	ParentID   int64  `json:"parentId,omitempty"`
}

type orderVersionEnt struct {
	ID          int64    `json:"id"`
	OrderID     int64    `json:"orderId"`
	OrderQty    int64    `json:"orderQty"`
	OrderType   string   `json:"orderType"`
	Price       *float64 `json:"price,omitempty"`
	StopPrice   *float64 `json:"stopPrice,omitempty"`
	TimeInForce string   `json:"timeInForce,omitempty"`
	Text        string   `json:"text,omitempty"`
}

// commandEnt: clOrdId is the only place the client's order id comes back
// (the swagger's Command), and nothing orders its push against the
// order's execution reports or the REST answer.
type commandEnt struct {
	ID          int64  `json:"id"`
	OrderID     int64  `json:"orderId"`
	Timestamp   string `json:"timestamp"`
	ClOrdID     string `json:"clOrdId"`
	CommandType string `json:"commandType"`
	IsAutomated bool   `json:"isAutomated"`
}

// tradeDate is the swagger's TradeDate.
type tradeDate struct {
	Year  int `json:"year"`
	Month int `json:"month"`
	Day   int `json:"day"`
}

// fillEnt: active goes false when the trade is busted (the C# sample
// prints such fills as "Inactive": Tradovate.Samples/Trading.cs
// GetFillDescription).
type fillEnt struct {
	ID        int64     `json:"id"`
	OrderID   int64     `json:"orderId"`
	Timestamp string    `json:"timestamp"`
	TradeDate tradeDate `json:"tradeDate"`
	Action    string    `json:"action"`
	Qty       int64     `json:"qty"`
	Price     float64   `json:"price"`
	Active    *bool     `json:"active"`
}

// positionEnt (the swagger's Position): bought/sold are the trade date's;
// prevPos at prevPrice was carried from an earlier one; netPrice may be
// absent while only the carried part is held (example-api-js
// EX-12-Calculating-Open-PL: "netPrice ? netPrice : prevPrice").
type positionEnt struct {
	ID          int64     `json:"id"`
	AccountID   int64     `json:"accountId"`
	ContractID  int64     `json:"contractId"`
	TradeDate   tradeDate `json:"tradeDate"`
	NetPos      int64     `json:"netPos"`
	NetPrice    *float64  `json:"netPrice"`
	Bought      int64     `json:"bought"`
	BoughtValue float64   `json:"boughtValue"`
	Sold        int64     `json:"sold"`
	SoldValue   float64   `json:"soldValue"`
	PrevPos     int64     `json:"prevPos"`
	PrevPrice   *float64  `json:"prevPrice"`
}

// execReportEnt is the swagger's ExecutionReport. It has no leavesQty:
// the connector derives it from the order version. execRefId is, for
// TradeCancel and TradeCorrect, the id of the report of the trade.
type execReportEnt struct {
	ID           int64   `json:"id"`
	AccountID    int64   `json:"accountId"`
	OrderID      int64   `json:"orderId"`
	Timestamp    string  `json:"timestamp"`
	ExecType     string  `json:"execType"`
	ExecRefID    string  `json:"execRefId"`
	OrdStatus    string  `json:"ordStatus"`
	Action       string  `json:"action"`
	CumQty       int64   `json:"cumQty"`
	AvgPx        float64 `json:"avgPx"`
	LastQty      int64   `json:"lastQty"`
	LastPx       float64 `json:"lastPx"`
	RejectReason string  `json:"rejectReason"`
	Text         string  `json:"text"`
}

// accountRiskStatusEnt is the broker's own risk state of an account (its
// id is the account's): fields as the partner API reference documents
// AccountRiskStatus; the entity type is in the FAQ's list
// (example-api-faq docs/WhatIsTheEntitySystemAndHowDoesItWork.md) and in
// the sync's initial response (example-code/user-sync-request).
type accountRiskStatusEnt struct {
	ID                   int64  `json:"id"`
	AdminAction          string `json:"adminAction"`
	AdminTimestamp       string `json:"adminTimestamp"`
	LiquidateOnly        string `json:"liquidateOnly"`
	UserTriggeredLiqOnly bool   `json:"userTriggeredLiqOnly"`
}

// userAccountAutoLiqEnt is the swagger's UserAccountAutoLiq; its id is the
// account's (Tradovate.Samples/Risks.cs, SetDailyLossLimit). Money fields
// are kept as JSON numbers and read as decimals.
type userAccountAutoLiqEnt struct {
	ID                  int64        `json:"id"`
	ChangesLocked       bool         `json:"changesLocked"`
	DailyLossAutoLiq    *json.Number `json:"dailyLossAutoLiq,omitempty"`
	FlattenTimestamp    string       `json:"flattenTimestamp,omitempty"`
	TrailingMaxDrawdown *json.Number `json:"trailingMaxDrawdown,omitempty"`
}

// cashBalanceSnapshot is the swagger's CashBalanceSnapshot.
type cashBalanceSnapshot struct {
	ErrorText      string      `json:"errorText"`
	TotalCashValue json.Number `json:"totalCashValue"`
	TotalPnL       json.Number `json:"totalPnL"`
	NetLiq         json.Number `json:"netLiq"`
	OpenPnL        json.Number `json:"openPnL"`
	RealizedPnL    json.Number `json:"realizedPnL"`
}

// syncSnapshot is the initial answer of user/syncrequest: "all your
// current user data at the time of this subscription's start"
// (example-api-faq example-code/user-sync-request/README.md). The
// connector takes it as complete, unlike list answers.
type syncSnapshot struct {
	Accounts            []account               `json:"accounts"`
	AccountRiskStatuses []accountRiskStatusEnt  `json:"accountRiskStatuses"`
	UserAccountAutoLiqs []userAccountAutoLiqEnt `json:"userAccountAutoLiqs"`
	Orders              []orderEnt              `json:"orders"`
	OrderVersions       []orderVersionEnt       `json:"orderVersions"`
	Commands            []commandEnt            `json:"commands"`
	Fills               []fillEnt               `json:"fills"`
	Positions           []positionEnt           `json:"positions"`
	ExecutionReports    []execReportEnt         `json:"executionReports"`
}

// liquidatePositionsReq is order/liquidatepositions (partner API
// reference, Orders, Liquidate Positions): position ids, possibly of
// several accounts; the answer is a simpleResponse.
type liquidatePositionsReq struct {
	Positions   []int64 `json:"positions"`
	Admin       bool    `json:"admin"`
	IsAutomated bool    `json:"isAutomated"`
}

type simpleResponse struct {
	OK        bool   `json:"ok"`
	ErrorText string `json:"errorText"`
}

type syncRequest struct {
	SplitResponses bool     `json:"splitResponses"`
	Users          []int64  `json:"users,omitempty"`
	Accounts       []int64  `json:"accounts,omitempty"`
	EntityTypes    []string `json:"entityTypes"`
}

// wsMsg is one element of an "a" frame: a reply (i, s, d) or an event (e,
// d) (example-api-js tutorial/WebSockets/EX-05 and EX-07).
type wsMsg struct {
	I *int64          `json:"i"`
	S int             `json:"s"`
	E string          `json:"e"`
	D json.RawMessage `json:"d"`
}

type propsEvent struct {
	EntityType string          `json:"entityType"`
	EventType  string          `json:"eventType"`
	Entity     json.RawMessage `json:"entity"`
}

// Frame kinds of Tradovate's SockJS-like WebSocket framing.
const (
	frameOpen      = 'o'
	frameHeartbeat = 'h'
	frameArray     = 'a'
	frameClose     = 'c'
)

// ErrFrame reports a WebSocket frame that is not o, h, a[...] or c[...].
var ErrFrame = errors.New("tradovate: bad frame")

// parseFrame splits a server frame into its kind and, for 'a', the messages.
func parseFrame(b []byte) (byte, []wsMsg, error) {
	if len(b) == 0 {
		return 0, nil, fmt.Errorf("%w: empty", ErrFrame)
	}
	switch b[0] {
	case frameOpen, frameHeartbeat:
		if len(bytes.TrimSpace(b[1:])) != 0 {
			return 0, nil, fmt.Errorf("%w: %q with a payload", ErrFrame, b[0])
		}
		return b[0], nil, nil
	case frameClose:
		// c[code, "reason"] (EX-05: "the 'closed' frame"); the payload is
		// only told, never trusted.
		return frameClose, nil, nil
	case frameArray:
		var msgs []wsMsg
		if err := json.Unmarshal(b[1:], &msgs); err != nil {
			return 0, nil, fmt.Errorf("%w: a: %v", ErrFrame, err)
		}
		return frameArray, msgs, nil
	}
	return 0, nil, fmt.Errorf("%w: unknown kind %q", ErrFrame, b[0])
}

// encodeRequest builds a client request: endpoint\nid\nquery\nbody.
func encodeRequest(endpoint string, id int64, query string, body []byte) []byte {
	var buf bytes.Buffer
	buf.WriteString(endpoint)
	buf.WriteByte('\n')
	buf.WriteString(strconv.FormatInt(id, 10))
	buf.WriteByte('\n')
	buf.WriteString(query)
	buf.WriteByte('\n')
	buf.Write(body)
	return buf.Bytes()
}

// Conversions.

func points(p market.Price) *float64 {
	v := float64(p) / market.TicksPerPoint
	return &v
}

func ticksOf(points float64) market.Price {
	return market.Price(math.Round(points * market.TicksPerPoint))
}

func actionOf(s market.Side) string {
	if s == market.Sell {
		return "Sell"
	}
	return "Buy"
}

func sideOf(a string) market.Side {
	switch a {
	case "Buy":
		return market.Buy
	case "Sell":
		return market.Sell
	}
	return market.Unknown
}

func orderTypeName(t market.OrderType) (string, error) {
	switch t {
	case market.MarketOrder:
		return "Market", nil
	case market.LimitOrder:
		return "Limit", nil
	case market.StopOrder:
		return "Stop", nil
	case market.StopLimitOrder:
		return "StopLimit", nil
	}
	return "", fmt.Errorf("%w: order type %v", broker.ErrInvalid, t)
}

func orderTypeOf(s string) market.OrderType {
	switch s {
	case "Market":
		return market.MarketOrder
	case "Limit":
		return market.LimitOrder
	case "Stop":
		return market.StopOrder
	case "StopLimit":
		return market.StopLimitOrder
	}
	return 0
}

func tifName(t broker.TIF) string {
	if t == broker.GTC {
		return "GTC"
	}
	return "Day"
}

func tifOf(s string) broker.TIF {
	if s == "GTC" {
		return broker.GTC
	}
	return broker.Day
}

// statusOf maps Tradovate's ordStatus (the swagger's enum: Canceled,
// Completed, Expired, Filled, PendingCancel, PendingNew, PendingReplace,
// Rejected, Suspended, Unknown, Working) to the broker's Status. Suspended
// is an OSO exit held until its entry fills. Unknown (and anything not in
// the enum) is 0: the caller keeps what it knew.
func statusOf(s string) broker.Status {
	switch s {
	case "Working", "PendingNew", "PendingReplace", "PendingCancel":
		return broker.Working
	case "Suspended":
		return broker.Pending
	case "Filled", "Completed":
		return broker.Filled
	case "Canceled":
		return broker.Cancelled
	case "Rejected":
		return broker.Rejected
	case "Expired":
		return broker.Expired
	}
	return 0
}

// pointsPtr is a price field that may be absent.
func pointsPtr(p *float64) (market.Price, bool) {
	if p == nil || *p == 0 {
		return 0, false
	}
	return ticksOf(*p), true
}

// closeReason renders a c frame's payload for an error message.
func closeReason(b []byte) string {
	var v []any
	if len(b) > 1 && json.Unmarshal(b[1:], &v) == nil && len(v) > 0 {
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, " ")
	}
	return "no reason"
}
