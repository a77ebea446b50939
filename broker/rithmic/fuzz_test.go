// fuzz_test.go: fuzz targets for what the connector parses from the
// server — every frame through a session's dispatch, the order
// notifications (351, 352, 353, 356) through the order table, LastTrade
// through the feed's decoder, the PnL plant's 450 and 451, the RMS's
// 305 — and the LastTrade decoding benchmark.

package rithmic

import (
	"encoding/binary"
	"log/slog"
	"math"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/market"
)

// offline is a Client with its tables and no plants.
func offline() *Client {
	c := &Client{log: discard(), acctR: map[string]string{"A": "A"}, acctD: map[string]string{"A": "A"}, orders: map[string]*ord{},
		byClient: map[ckey]*ord{}, inflight: map[ckey]*submit{}, delivered: map[string]bool{}, exitSent: map[string]bool{},
		liq: map[string]*sync.Mutex{}, rms: map[string]RMS{}, rmsKick: make(chan struct{}, 1), events: newQueue(), symbol: "MESZ5"}
	c.syncCond = sync.NewCond(&c.mu)
	return c
}

// chunks splits fuzz input into payloads, each after a 2-byte length.
func chunks(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n > len(b) {
			n = len(b)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func join(ms ...proto.Message) []byte {
	var out []byte
	for _, m := range ms {
		tpl := int32(0)
		switch m.(type) {
		case *rpb.RithmicOrderNotification:
			tpl = rpb.TRithmicOrderNotification
		case *rpb.ExchangeOrderNotification:
			tpl = rpb.TExchangeOrderNotification
		case *rpb.BracketUpdates:
			tpl = rpb.TBracketUpdates
		}
		f, _ := rpb.Frame(tpl, m)
		out = binary.BigEndian.AppendUint16(out, uint16(len(f)-4))
		out = append(out, f[4:]...)
	}
	return out
}

// seedLife is a bracket's life as the venue tells it: entry open, filled,
// exits armed, stop filled, target cancelled.
func seedLife() []byte {
	e := func(k rpb.ExchangeNotifyType, basket, orig string, pt rpb.PriceType, fill int32, unfilled int32, id string) *rpb.ExchangeOrderNotification {
		return &rpb.ExchangeOrderNotification{NotifyType: k, UserTag: "e1|b", BasketId: basket, OriginalBasketId: orig, AccountId: "A",
			Symbol: "MESZ5", Quantity: 2, PriceType: pt, TransactionType: rpb.TransactionType_TRANSACTION_BUY, FillSize: fill, FillPrice: 5000,
			FillId: id, TotalFillSize: fill, TotalUnfilledSize: unfilled, TriggerPrice: 4990, Price: 5000, Status: "open", SequenceNumber: id,
			BracketType: rpb.BracketType_BRACKET_TARGET_AND_STOP_STATIC}
	}
	return join(
		&rpb.RithmicOrderNotification{NotifyType: rpb.RithmicNotifyType_OPEN, UserTag: "e1|b", BasketId: "1", AccountId: "A", Quantity: 2,
			PriceType: rpb.PriceType_PRICE_LIMIT, BracketType: rpb.BracketType_BRACKET_TARGET_AND_STOP_STATIC},
		e(rpb.ExchangeNotifyType_EXCH_FILL, "1", "", rpb.PriceType_PRICE_LIMIT, 2, 0, "f1"),
		e(rpb.ExchangeNotifyType_EXCH_STATUS, "2", "1", rpb.PriceType_PRICE_STOP_MARKET, 0, 2, "s2"),
		e(rpb.ExchangeNotifyType_EXCH_STATUS, "3", "1", rpb.PriceType_PRICE_LIMIT, 0, 2, "s3"),
		&rpb.BracketUpdates{BasketId: "1", AccountId: "A", StopTicks: 10, TargetTicks: 8},
		e(rpb.ExchangeNotifyType_EXCH_FILL, "2", "1", rpb.PriceType_PRICE_STOP_MARKET, 2, 0, "f2"),
		e(rpb.ExchangeNotifyType_EXCH_CANCEL, "3", "1", rpb.PriceType_PRICE_LIMIT, 0, 0, "c3"),
		&rpb.RithmicOrderNotification{NotifyType: rpb.RithmicNotifyType_COMPLETE, CompletionReason: "Cancel", UserTag: "e1|b", BasketId: "3",
			OriginalBasketId: "1", AccountId: "A", PriceType: rpb.PriceType_PRICE_LIMIT},
	)
}

// FuzzOrderNotifications: any sequence of notifications leaves the event
// stream in Seq order, each venue id delivered at most once, and fills
// with a positive quantity.
func FuzzOrderNotifications(f *testing.F) {
	f.Add(seedLife())
	f.Add(join(&rpb.ExchangeOrderNotification{NotifyType: rpb.ExchangeNotifyType_EXCH_FILL, UserTag: "", BasketId: "9", AccountId: "A",
		FillSize: 1, FillId: "x", WindowName: ExitWindow}))
	f.Add(join(&rpb.AccountRmsUpdates{UpdateBits: 1, AccountId: "A", AutoLiqThresholdCurrentValue: "49500.00"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := offline()
		defer c.events.close()
		var got []broker.Event
		done := make(chan struct{})
		c.mu.Lock()
		want := c.seq
		c.mu.Unlock()
		for _, p := range chunks(data) {
			tpl, m, err := rpb.Decode(p)
			if err != nil || m == nil {
				continue
			}
			c.onOrderPush(tpl, m)
		}
		c.mu.Lock()
		want = c.seq
		c.mu.Unlock()
		go func() {
			defer close(done)
			for uint64(len(got)) < want {
				got = append(got, <-c.events.out)
			}
		}()
		<-done
		seen := map[string]bool{}
		for i, ev := range got {
			if ev.Seq != uint64(i+1) {
				t.Fatalf("event %d has seq %d", i, ev.Seq)
			}
			if ev.VenueID != "" {
				if seen[ev.VenueID] {
					t.Fatalf("venue id %s delivered twice", ev.VenueID)
				}
				seen[ev.VenueID] = true
			}
			if (ev.Kind == broker.FilledEv || ev.Kind == broker.PartiallyFilled) && ev.FillQty <= 0 {
				t.Fatalf("fill of %d", ev.FillQty)
			}
		}
	})
}

// FuzzDispatch: any frame a server sends through a session's dispatch,
// with a request waiting: no panic.
func FuzzDispatch(f *testing.F) {
	for _, tpl := range []int32{rpb.TLoginResponse, rpb.TNewOrderResponse, rpb.TReject, rpb.TForcedLogout, rpb.THeartbeatResponse,
		rpb.TAccountListResponse, rpb.TExchangeOrderNotification, rpb.TInstrumentPnL, rpb.TLastTrade, rpb.TAccountRmsInfoResponse,
		rpb.TAccountRmsUpdatesResponse, rpb.TAccountRmsUpdates, rpb.TAccountPnL} {
		m := rpb.New(tpl)
		if r, ok := m.(interface{ GetUserMsg() []string }); ok {
			_ = r
			setUserMsg(m, "o1")
		}
		b, _ := rpb.Frame(tpl, m)
		f.Add(b[4:])
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		pl := newPlant("order", rpb.InfraType_INFRA_ORDER_PLANT, Config{}, Credentials{}, Options{}.withDefaults())
		pl.push = func(int32, proto.Message) {}
		s := &session{p: pl, calls: map[string]*call{"o1": {tpl: 312, done: make(chan struct{})}}, ended: make(chan struct{})}
		var snap []proto.Message
		s.snap = &snap
		_ = s.dispatch(p)
		s.end(nil)
	})
}

// FuzzDecodeTrade: the feed's decoder refuses or yields an MES trade.
func FuzzDecodeTrade(f *testing.F) {
	b, _ := rpb.Frame(rpb.TLastTrade, &rpb.LastTrade{Symbol: "MESZ5", TradePrice: 5000.25, TradeSize: 2, Aggressor: 1, SourceSsboe: 1700000000})
	f.Add(b[4:])
	f.Fuzz(func(t *testing.T, p []byte) {
		var v rpb.TradeView
		tr, ok, err := decodeTrade(p, &v, []byte("MESZ5"))
		if err != nil || !ok {
			return
		}
		if tr.Price <= 0 || tr.Size <= 0 || (tr.Aggressor != market.Buy && tr.Aggressor != market.Sell && tr.Aggressor != market.Unknown) {
			t.Fatalf("trade %+v", tr)
		}
		var g rpb.LastTrade
		if err := proto.Unmarshal(p, &g); err != nil {
			t.Fatalf("decoded what proto refuses: %v", err)
		}
		if g.TradeSize != int32(tr.Size) || g.IsSnapshot {
			t.Fatalf("decoders disagree: %+v vs %+v", tr, &g)
		}
	})
}

// BenchmarkDecodeLastTrade: one LastTrade frame (as one WebSocket message
// carries it) to a market.Trade; 0 allocations per frame.
func BenchmarkDecodeLastTrade(b *testing.B) {
	m := &rpb.LastTrade{Symbol: "MESZ5", Exchange: "CME", PresenceBits: 9, TradePrice: 5123.75, TradeSize: 3,
		Aggressor: rpb.TransactionType_TRANSACTION_SELL, Volume: 123456, Ssboe: 1772463600, Usecs: 123456, SourceSsboe: 1772463600,
		SourceUsecs: 123456, SourceNsecs: 123456789}
	frame, err := rpb.Frame(rpb.TLastTrade, m)
	if err != nil {
		b.Fatal(err)
	}
	sym := []byte("MESZ5")
	var v rpb.TradeView
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	var sum int64
	for i := 0; i < b.N; i++ {
		tr, ok, err := decodeTradeFrame(frame, &v, sym)
		if err != nil || !ok {
			b.Fatal(err)
		}
		sum += tr.Size
	}
	b.StopTimer()
	if sum != 3*int64(b.N) {
		b.Fatal(sum)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mframes/s")
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// FuzzPositionOf: any PnL update (450) converts to a position, never a
// panic (a NaN or infinite figure is not a number to convert).
func FuzzPositionOf(f *testing.F) {
	b, _ := rpb.Frame(rpb.TInstrumentPnL, &rpb.InstrumentPnLPositionUpdate{AccountId: "A", Symbol: "MESZ5", NetQuantity: -3,
		AvgOpenFillPrice: 5000.25, DayClosedPnl: -12.5})
	f.Add(b[4:])
	nan, _ := rpb.Frame(rpb.TInstrumentPnL, &rpb.InstrumentPnLPositionUpdate{NetQuantity: 1, AvgOpenFillPrice: math.Inf(1), DayClosedPnl: math.NaN()})
	f.Add(nan[4:])
	f.Fuzz(func(t *testing.T, p []byte) {
		var n rpb.InstrumentPnLPositionUpdate
		if proto.Unmarshal(p, &n) != nil {
			return
		}
		c := offline()
		defer c.events.close()
		c.cfg = Config{}.WithDefaults()
		pos := c.positionOf("A", &n)
		if pos.Qty != int64(n.NetQuantity) {
			t.Fatalf("qty %d from %d", pos.Qty, n.NetQuantity)
		}
	})
}

// FuzzRMSInfo: any 305 reads as limits whose presence follows the
// presence bits, and a lock the desk is told of at most once per change.
func FuzzRMSInfo(f *testing.F) {
	for _, m := range []*rpb.ResponseAccountRmsInfo{
		{AccountId: "A", PresenceBits: 4 | 128, LossLimit: 500, Status: "active", AutoLiquidate: rpb.AutoLiquidateFlag_AUTO_LIQUIDATE_ENABLED, AutoLiquidateThreshold: 500},
		{AccountId: "A", PresenceBits: 128, Status: "disabled"},
		{AccountId: "A", PresenceBits: 4, LossLimit: math.NaN(), AutoLiquidateThreshold: math.Inf(-1)},
	} {
		b, _ := rpb.Frame(rpb.TAccountRmsInfoResponse, m)
		f.Add(b[4:])
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		var m rpb.ResponseAccountRmsInfo
		if proto.Unmarshal(p, &m) != nil {
			return
		}
		r := rmsOf(&m)
		if r.Limited != (m.PresenceBits&rmsBitLossLimit != 0) {
			t.Fatalf("limited %v with presence bits %d", r.Limited, m.PresenceBits)
		}
		if r.Status != "" && m.PresenceBits&rmsBitStatus == 0 {
			t.Fatalf("a status %q without its presence bit", r.Status)
		}
		a := autoLiqOf(r)
		if !a.ChangesLocked || !a.DailyLoss.IsZero() && !(r.Limited && r.AutoLiquidate) {
			t.Fatalf("auto-liq %+v from %+v", a, r)
		}
		c := offline()
		defer c.events.close()
		m.AccountId = "A"
		c.mu.Lock()
		c.applyRMSLocked(map[string]RMS{"A": rmsOf(&m)})
		c.applyRMSLocked(map[string]RMS{"A": rmsOf(&m)})
		n := c.seq
		c.mu.Unlock()
		if n > 1 || (n == 1) != r.Locked() {
			t.Fatalf("%d risk status events for one reading (locked %v)", n, r.Locked())
		}
	})
}

// FuzzCashOf: any 451 converts to a cash balance or an error; a balance
// is the message's own figures, never a zero for a missing cash.
func FuzzCashOf(f *testing.F) {
	for _, m := range []*rpb.AccountPnLPositionUpdate{
		{AccountId: "A", CashOnHand: "50000.00", AccountBalance: "49998.40", OpenPositionPnl: "-1.00", DayClosedPnl: "0.00"},
		{AccountId: "A", CashOnHand: "", AccountBalance: "1e400"},
		{AccountId: "A", CashOnHand: "NaN", AccountBalance: "12"},
	} {
		b, _ := rpb.Frame(rpb.TAccountPnL, m)
		f.Add(b[4:])
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		var m rpb.AccountPnLPositionUpdate
		if proto.Unmarshal(p, &m) != nil {
			return
		}
		cash, err := cashOf("A", &m)
		if err != nil {
			return
		}
		if m.CashOnHand == "" || m.AccountBalance == "" {
			t.Fatalf("a balance from a 451 without cash or balance: %+v", cash)
		}
	})
}
