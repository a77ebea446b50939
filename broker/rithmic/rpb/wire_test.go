// wire_test.go: the generated types against the published field numbers
// (written here as literal numbers, independently of ../proto, so a typo
// in a .proto file fails), the framing, and the LastTrade decoder against
// the generated one.

package rpb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// wire builds a payload field by field.
type wire []byte

func (w wire) varint(num protowire.Number, v uint64) wire {
	b := protowire.AppendTag(w, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func (w wire) str(num protowire.Number, s string) wire {
	b := protowire.AppendTag(w, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func (w wire) double(num protowire.Number, f float64) wire {
	b := protowire.AppendTag(w, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(f))
}

// TestPublishedFieldNumbers decodes payloads written with the field
// numbers of rundef/async_rithmic's async_rithmic/protocol_buffers/source
// files (named in each case) into our generated types.
func TestPublishedFieldNumbers(t *testing.T) {
	t.Run("response_rithmic_system_info", func(t *testing.T) {
		p := wire(nil).varint(154467, 17).str(132766, "0").str(153628, "Rithmic Test").str(153628, "Rithmic 01")
		var m ResponseRithmicSystemInfo
		mustUnmarshal(t, p, &m)
		if m.TemplateId != 17 || len(m.SystemName) != 2 || m.SystemName[0] != "Rithmic Test" || m.RpCode[0] != "0" {
			t.Fatalf("%+v", &m)
		}
	})
	t.Run("response_login", func(t *testing.T) {
		p := wire(nil).varint(154467, 11).str(132760, "r1").str(132766, "0").str(154013, "FCM").str(154014, "IB").double(153633, 30)
		var m ResponseLogin
		mustUnmarshal(t, p, &m)
		if m.HeartbeatInterval != 30 || m.FcmId != "FCM" || m.IbId != "IB" || m.UserMsg[0] != "r1" {
			t.Fatalf("%+v", &m)
		}
	})
	t.Run("request_login", func(t *testing.T) {
		m := &RequestLogin{User: "u", Password: "p", AppName: "a", AppVersion: "1", SystemName: "s", InfraType: InfraType_INFRA_ORDER_PLANT, TemplateVersion: "3.9"}
		want := map[protowire.Number]bool{131003: true, 130004: true, 130002: true, 131803: true, 153628: true, 153621: true, 153634: true}
		fieldsOf(t, m, want)
	})
	// 305: wtroughton/elixir-rapi lib/proto/order_plant_templates/response_account_rms_info.pb.ex.
	t.Run("response_account_rms_info", func(t *testing.T) {
		p := wire(nil).varint(154467, 305).str(132760, "o1").str(132764, "0").varint(153622, 4|128).str(154008, "A1").
			str(154003, "active").varint(131035, 1).double(131037, 1500).double(154019, 500).varint(110105, 10)
		var m ResponseAccountRmsInfo
		mustUnmarshal(t, p, &m)
		if m.AccountId != "A1" || m.PresenceBits != 132 || m.LossLimit != 500 || m.AutoLiquidate != AutoLiquidateFlag_AUTO_LIQUIDATE_ENABLED ||
			m.AutoLiquidateThreshold != 1500 || m.Status != "active" || m.MaxOrderQuantity != 10 || m.RqHandlerRpCode[0] != "0" {
			t.Fatalf("%+v", &m)
		}
	})
	// 356: async_rithmic protocol_buffers/source/account_rms_updates.proto.
	t.Run("account_rms_updates", func(t *testing.T) {
		p := wire(nil).varint(154467, 356).varint(154211, 1).str(154008, "A1").str(131040, "-500.00").str(131049, "50250.00")
		var m AccountRmsUpdates
		mustUnmarshal(t, p, &m)
		if m.AccountId != "A1" || m.UpdateBits != 1 || m.AutoLiqThresholdCurrentValue != "-500.00" || m.AutoLiqPeakAccountBalance != "50250.00" {
			t.Fatalf("%+v", &m)
		}
	})
	// 3508: pbeets/rithmic-rs rapi/0.78.0.0/proto/request_account_rms_updates.proto
	// (request is a string there, not the SubscribeRequest enum of 100/400).
	t.Run("request_account_rms_updates", func(t *testing.T) {
		p := wire(nil).varint(154467, 3508).str(132760, "o2").str(154013, "F").str(154014, "I").str(154008, "A1").
			str(100000, "subscribe").varint(154211, 1)
		var m RequestAccountRmsUpdates
		mustUnmarshal(t, p, &m)
		if m.AccountId != "A1" || m.Request != "subscribe" || m.UpdateBits != 1 || m.FcmId != "F" || m.IbId != "I" || m.UserMsg[0] != "o2" {
			t.Fatalf("%+v", &m)
		}
	})
	// 451: async_rithmic protocol_buffers/source/account_pnl_position_update.proto.
	t.Run("account_pnl_position_update", func(t *testing.T) {
		p := wire(nil).varint(154467, 451).varint(110121, 1).str(154008, "A1").str(156970, "49998.40").str(156971, "50000.00").
			str(156961, "-1.00").str(157954, "-1.00").str(157955, "2.50").str(157956, "1.50").str(156968, "0.00")
		var m AccountPnLPositionUpdate
		mustUnmarshal(t, p, &m)
		if m.AccountId != "A1" || !m.IsSnapshot || m.AccountBalance != "49998.40" || m.CashOnHand != "50000.00" || m.OpenPositionPnl != "-1.00" ||
			m.DayOpenPnl != "-1.00" || m.DayClosedPnl != "2.50" || m.DayPnl != "1.50" || m.MinAccountBalance != "0.00" {
			t.Fatalf("%+v", &m)
		}
	})
	t.Run("last_trade", func(t *testing.T) {
		p := wire(nil).varint(154467, 150).str(110100, "MESZ5").str(110101, "CME").double(100006, 5000.25).
			varint(100178, 3).varint(112003, 2).varint(100032, 12345).varint(110121, 1).varint(150100, 1700000000).
			varint(150101, 250).varint(150400, 1700000000).varint(150404, 250123)
		var m LastTrade
		mustUnmarshal(t, p, &m)
		if m.Symbol != "MESZ5" || m.Exchange != "CME" || m.TradePrice != 5000.25 || m.TradeSize != 3 ||
			m.Aggressor != TransactionType_TRANSACTION_SELL || m.Volume != 12345 || !m.IsSnapshot || m.Ssboe != 1700000000 ||
			m.Usecs != 250 || m.SourceNsecs != 250123 {
			t.Fatalf("%+v", &m)
		}
	})
	t.Run("request_bracket_order", func(t *testing.T) {
		m := &RequestBracketOrder{UserTag: "t", AccountId: "A", Quantity: 2, Price: 1, TriggerPrice: 2,
			TransactionType: TransactionType_TRANSACTION_BUY, Duration: Duration_DURATION_GTC, PriceType: PriceType_PRICE_LIMIT,
			TradeRoute: "r", ManualOrAuto: OrderPlacement_PLACEMENT_AUTO, BracketType: BracketType_BRACKET_TARGET_AND_STOP_STATIC,
			TargetQuantity: 2, TargetTicks: 8, StopQuantity: 2, StopTicks: 5, UserType: UserType_USER_TYPE_TRADER}
		fieldsOf(t, m, map[protowire.Number]bool{154119: true, 154008: true, 112004: true, 110306: true, 149247: true, 112003: true,
			112005: true, 112008: true, 112016: true, 154710: true, 157087: true, 154457: true, 154456: true, 154459: true, 154458: true, 154036: true})
	})
	t.Run("exchange_order_notification", func(t *testing.T) {
		p := wire(nil).varint(154467, 352).str(154119, "C1.7").varint(153625, 5).str(110300, "B9").str(154008, "A").
			double(110307, 5001.5).varint(110308, 2).str(110311, "F3").varint(154111, 2).varint(154112, 1).varint(112008, 4).
			double(149247, 5001).str(154497, "B8").varint(110121, 1)
		var m ExchangeOrderNotification
		mustUnmarshal(t, p, &m)
		if m.UserTag != "C1.7" || m.NotifyType != ExchangeNotifyType_EXCH_FILL || m.BasketId != "B9" || m.FillPrice != 5001.5 ||
			m.FillSize != 2 || m.FillId != "F3" || m.TotalFillSize != 2 || m.TotalUnfilledSize != 1 ||
			m.PriceType != PriceType_PRICE_STOP_MARKET || m.TriggerPrice != 5001 || m.OriginalBasketId != "B8" || !m.IsSnapshot {
			t.Fatalf("%+v", &m)
		}
	})
	t.Run("rithmic_order_notification", func(t *testing.T) {
		p := wire(nil).varint(154467, 351).varint(153625, 13).str(110303, "open").str(149273, "").varint(157087, 6).str(110358, "B2")
		var m RithmicOrderNotification
		mustUnmarshal(t, p, &m)
		if m.NotifyType != RithmicNotifyType_OPEN || m.Status != "open" || m.BracketType != BracketType_BRACKET_TARGET_AND_STOP_STATIC || m.LinkedBasketIds != "B2" {
			t.Fatalf("%+v", &m)
		}
	})
	t.Run("response_show_bracket_stops strings", func(t *testing.T) {
		p := wire(nil).varint(154467, 341).str(110300, "B1").str(154459, "3").str(154458, "12")
		var m ResponseShowBracketStops
		mustUnmarshal(t, p, &m)
		if m.StopQuantity != "3" || m.StopTicks != "12" {
			t.Fatalf("%+v", &m)
		}
	})
	t.Run("instrument_pnl_position_update", func(t *testing.T) {
		p := wire(nil).varint(154467, 450).varint(156967, uint64(0xFFFFFFFFFFFFFFFE)).double(154434, 5000.5).double(157955, -12.5).
			varint(154041, 3).varint(154042, 5)
		var m InstrumentPnLPositionUpdate
		mustUnmarshal(t, p, &m)
		if m.NetQuantity != -2 || m.AvgOpenFillPrice != 5000.5 || m.DayClosedPnl != -12.5 || m.FillBuyQty != 3 || m.FillSellQty != 5 {
			t.Fatalf("%+v", &m)
		}
	})
	t.Run("request_replay_executions", func(t *testing.T) {
		fieldsOf(t, &RequestReplayExecutions{AccountId: "A", StartIndex: 1, FinishIndex: 2}, map[protowire.Number]bool{154008: true, 153002: true, 153003: true})
	})
	t.Run("request_update_stop_bracket_level", func(t *testing.T) {
		fieldsOf(t, &RequestUpdateStopBracketLevel{BasketId: "B", Level: 5, StopTicks: 3}, map[protowire.Number]bool{110300: true, 154244: true, 154458: true})
	})
}

func mustUnmarshal(t *testing.T, p []byte, m proto.Message) {
	t.Helper()
	if err := proto.Unmarshal(p, m); err != nil {
		t.Fatal(err)
	}
	if len(m.ProtoReflect().GetUnknown()) != 0 {
		t.Fatalf("fields left unknown: a field number differs from the published one")
	}
}

// fieldsOf checks that m encodes exactly the wanted field numbers.
func fieldsOf(t *testing.T, m proto.Message, want map[protowire.Number]bool) {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got := map[protowire.Number]bool{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		b = b[n:]
		got[num] = true
	}
	for n := range want {
		if !got[n] {
			t.Errorf("field %d not written", n)
		}
	}
	for n := range got {
		if !want[n] {
			t.Errorf("unexpected field %d", n)
		}
	}
}

func TestFrames(t *testing.T) {
	f1, err := Frame(THeartbeatRequest, &RequestHeartbeat{UserMsg: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := Frame(TReject, &Reject{RpCode: []string{"3", "bad"}})
	var got []int32
	if err := Frames(append(append([]byte{}, f1...), f2...), func(p []byte) error {
		tpl, m, err := Decode(p)
		if err != nil {
			return err
		}
		if m == nil {
			t.Fatalf("template %d not known", tpl)
		}
		got = append(got, tpl)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != THeartbeatRequest || got[1] != TReject {
		t.Fatalf("templates %v", got)
	}
	bad := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"short prefix", []byte{0, 0, 1}},
		{"length past the end", append([]byte{0, 0, 0, 9}, 1, 2)},
		{"huge length", []byte{0x7f, 0xff, 0xff, 0xff}},
		{"trailing bytes", append(append([]byte{}, f1...), 0, 0)},
	}
	for _, c := range bad {
		if err := Frames(c.msg, func([]byte) error { return nil }); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: %v, want ErrFrame", c.name, err)
		}
	}
	// A payload without a template id, and one with a broken tag.
	if _, err := TemplateID(wire(nil).str(110100, "ES")); !errors.Is(err, ErrFrame) {
		t.Errorf("no template id: %v", err)
	}
	if _, err := TemplateID([]byte{0xff}); !errors.Is(err, ErrFrame) {
		t.Errorf("broken tag: %v", err)
	}
	// An unknown template is skipped, not an error.
	if tpl, m, err := Decode(wire(nil).varint(154467, 358)); err != nil || m != nil || tpl != 358 {
		t.Errorf("unknown template: %d %v %v", tpl, m, err)
	}
	if len(f1) < 4 || int(binary.BigEndian.Uint32(f1)) != len(f1)-4 {
		t.Fatalf("length prefix %x", f1[:4])
	}
}

func TestTemplatesRoundTrip(t *testing.T) {
	for _, tpl := range Templates() {
		f, err := Frame(tpl, New(tpl))
		if err != nil {
			t.Fatal(err)
		}
		if err := Frames(f, func(p []byte) error {
			got, m, err := Decode(p)
			if err != nil || got != tpl || GetTemplate(m) != tpl {
				t.Errorf("template %d: got %d %v", tpl, got, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeLastTrade(t *testing.T) {
	m := &LastTrade{Symbol: "MESZ5", Exchange: "CME", TradePrice: 5123.75, TradeSize: 7, Aggressor: TransactionType_TRANSACTION_BUY,
		Volume: 99, Ssboe: 1700000001, Usecs: 5, SourceSsboe: 1700000001, SourceNsecs: 5123, PresenceBits: 1, IsSnapshot: true}
	f, err := Frame(TLastTrade, m)
	if err != nil {
		t.Fatal(err)
	}
	var v TradeView
	if err := DecodeLastTrade(f[4:], &v); err != nil {
		t.Fatal(err)
	}
	if v.TemplateID != TLastTrade || string(v.Symbol) != "MESZ5" || string(v.Exchange) != "CME" || v.Price != 5123.75 || v.Size != 7 ||
		v.Aggressor != TransactionType_TRANSACTION_BUY || v.Volume != 99 || !v.IsSnapshot || v.PresenceBits != 1 {
		t.Fatalf("%+v", v)
	}
	if got := v.TimeNs(); got != 1700000001_000005123 {
		t.Fatalf("time %d", got)
	}
	v.SourceSsboe = 0
	if got := v.TimeNs(); got != 1700000001_000005000 {
		t.Fatalf("gateway time %d", got)
	}
	// The last occurrence wins; a wrong wire type is skipped.
	p := wire(f[4:]).varint(100178, 9).double(100178, 1)
	if err := DecodeLastTrade(p, &v); err != nil || v.Size != 9 {
		t.Fatalf("size %d %v", v.Size, err)
	}
	if err := DecodeLastTrade(wire(nil).str(110100, "\xff"), &v); !errors.Is(err, ErrFrame) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
}

// FuzzFrames: any bytes through the framing and the registry must not
// panic; a payload that decodes re-encodes to a payload that decodes to
// the same message.
func FuzzFrames(f *testing.F) {
	for _, tpl := range []int32{TLoginResponse, TLastTrade, TExchangeOrderNotification, TRithmicOrderNotification, TReject} {
		b, _ := Frame(tpl, New(tpl))
		f.Add(b)
	}
	b, _ := Frame(TExchangeOrderNotification, &ExchangeOrderNotification{UserTag: "C1.1|b", BasketId: "B1", FillPrice: 5000, FillSize: 1})
	f.Add(b)
	f.Add([]byte{0, 0, 0, 3, 0xc8, 0x9d, 0x4b})
	f.Fuzz(func(t *testing.T, msg []byte) {
		_ = Frames(msg, func(p []byte) error {
			tpl, m, err := Decode(p)
			if err != nil || m == nil {
				return nil
			}
			again, err := Frame(tpl, m)
			if err != nil {
				t.Fatalf("re-encode %d: %v", tpl, err)
			}
			_, m2, err := Decode(again[4:])
			if err != nil || !proto.Equal(m, m2) {
				t.Fatalf("template %d does not round-trip: %v", tpl, err)
			}
			return nil
		})
	})
}

// FuzzLastTradeDecoders: the zero-allocation decoder and the generated
// one agree on every payload the generated one accepts.
func FuzzLastTradeDecoders(f *testing.F) {
	m := &LastTrade{Symbol: "MESZ5", Exchange: "CME", TradePrice: 5000.25, TradeSize: 2, Aggressor: TransactionType_TRANSACTION_SELL,
		Volume: 10, Ssboe: 1, Usecs: 2, SourceSsboe: 3, SourceUsecs: 4, SourceNsecs: 5, IsSnapshot: true, PresenceBits: 9, ClearBits: 1, Vwap: 1.5}
	b, _ := Frame(TLastTrade, m)
	f.Add(b[4:])
	f.Add([]byte{})
	f.Add([]byte(wire(nil).double(100178, 3).varint(100006, 7)))
	f.Fuzz(func(t *testing.T, p []byte) {
		var g LastTrade
		gerr := proto.Unmarshal(p, &g)
		var v TradeView
		verr := DecodeLastTrade(p, &v)
		if gerr != nil {
			return // the generated decoder refuses; ours may be laxer on fields it does not read
		}
		if verr != nil {
			t.Fatalf("fast decoder refused what proto accepts: %v", verr)
		}
		if v.TemplateID != g.TemplateId || string(v.Symbol) != g.Symbol || string(v.Exchange) != g.Exchange ||
			math.Float64bits(v.Price) != math.Float64bits(g.TradePrice) || v.Size != g.TradeSize || v.Aggressor != g.Aggressor ||
			v.Volume != g.Volume || v.IsSnapshot != g.IsSnapshot || v.PresenceBits != g.PresenceBits || v.ClearBits != g.ClearBits ||
			v.Ssboe != g.Ssboe || v.Usecs != g.Usecs || v.SourceSsboe != g.SourceSsboe || v.SourceUsecs != g.SourceUsecs ||
			v.SourceNsecs != g.SourceNsecs || math.Float64bits(v.Vwap) != math.Float64bits(g.Vwap) {
			t.Fatalf("decoders disagree:\nfast %+v\nprot %+v", v, &g)
		}
		if !bytes.Equal(v.Symbol, []byte(g.Symbol)) {
			t.Fatal("symbol")
		}
	})
}
