// faults_test.go: the connector against the venue's unfriendly parts:
// dropped sockets, forced logouts, answers lost before or after the venue
// acted on a new order, late Rithmic-side notifications (the whole
// conformance suite again), a plant down while the others are up, rejects,
// a silent server, events missed while disconnected, a restart of the
// desk (a new connector on the venue's orders), and the rule that a
// bracket's stop only tightens.

package rithmic_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/brokertest"
	"github.com/deskguard/deskguard/broker/rithmic"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/market"
)

const base = brokertest.Base

// events collects a client's events.
type events struct {
	mu   sync.Mutex
	cond *sync.Cond
	all  []broker.Event
	done chan struct{}
}

func collect(t testing.TB, c *rithmic.Client) *events {
	e := &events{done: make(chan struct{})}
	e.cond = sync.NewCond(&e.mu)
	go func() {
		defer close(e.done)
		var last uint64
		for ev := range c.Events() {
			e.mu.Lock()
			if last != 0 && ev.Seq != last+1 {
				t.Errorf("event seq %d after %d", ev.Seq, last)
			}
			last = ev.Seq
			e.all = append(e.all, ev)
			e.cond.Broadcast()
			e.mu.Unlock()
		}
		e.mu.Lock()
		e.cond.Broadcast()
		e.mu.Unlock()
	}()
	return e
}

// wait returns the first event matching ok (in all events so far), or
// fails at the deadline.
func (e *events) wait(t testing.TB, what string, ok func(broker.Event) bool) broker.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	stop := time.AfterFunc(10*time.Second, func() { e.mu.Lock(); e.cond.Broadcast(); e.mu.Unlock() })
	defer stop.Stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		for _, ev := range e.all {
			if ok(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; events:\n%s", what, dump(e.all))
		}
		e.cond.Wait()
	}
}

func (e *events) count(ok func(broker.Event) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ok(ev) {
			n++
		}
	}
	return n
}

func dump(evs []broker.Event) string {
	s := ""
	for _, ev := range evs {
		s += fmt.Sprintf("  #%d %s %s role=%s fill=%d@%s leaves=%d vid=%s %q\n", ev.Seq, ev.Kind, ev.ClientID, ev.Role, ev.FillQty,
			ev.FillPrice, ev.LeavesQty, ev.VenueID, ev.Reason)
	}
	return s
}

func is(id string, k broker.EventKind) func(broker.Event) bool {
	return func(ev broker.Event) bool { return ev.ClientID == id && ev.Kind == k }
}

// clock prints trades one millisecond apart.
type clock struct {
	v  *rvenue.Venue
	ns int64
}

func (c *clock) trade(off int, size int64) {
	c.ns += int64(time.Millisecond)
	c.v.Trade(market.Trade{Time: c.ns, Price: base + market.Price(off), Size: size, Aggressor: market.Buy})
}

func newClock(v *rvenue.Venue) *clock {
	c := &clock{v: v, ns: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC).UnixNano()}
	c.trade(0, 1)
	return c
}

func ctx10(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func accepted(v *rvenue.Venue, id string) int {
	n := 0
	for _, ev := range v.History() {
		if ev.ClientID == id && ev.Kind == broker.Accepted {
			n++
		}
	}
	return n
}

func limit(id string, px market.Price) broker.Order {
	return broker.Order{ClientID: id, Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: px, TIF: broker.Day}
}

// TestReconnectResubscribes: every socket dropped; the order plant
// reconciles again, the feed subscribes again, and trading goes on.
func TestReconnectResubscribes(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	tp := startTape(t, c)
	ev := collect(t, c)
	ck := newClock(v)
	if !tp.wait(1, 5*time.Second) {
		t.Fatal("no trade before the drop")
	}
	v.DropSockets()
	ctx := ctx10(t)
	if err := c.WaitSynced(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := v.WaitStats(ctx, func(s rvenue.Stats) bool { return s.Subscriptions >= 2 }); err != nil {
		t.Fatal("the feed did not subscribe again:", err)
	}
	ck.trade(1, 1)
	if !tp.wait(2, 5*time.Second) {
		t.Fatal("no trade after the reconnect")
	}
	if got := tp.trades(); got[1].Price != base+1 || got[1].Aggressor != market.Buy {
		t.Fatalf("trade after reconnect %+v", got[1])
	}
	if err := c.SubmitOrder(ctx, limit("l1", base-4)); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "l1 accepted", is("l1", broker.Accepted))
}

// TestForcedLogoutReconnects: a 77 on the order plant; the connector
// logs in again and reconciles.
func TestForcedLogoutReconnects(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	newClock(v)
	v.ForceLogout(rvenue.Order)
	ctx := ctx10(t)
	if err := c.WaitSynced(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if s := v.Stats(); s.ForcedLogouts != 1 || s.Logins[rvenue.Order] != 2 {
		t.Fatalf("stats %+v", s)
	}
	if err := c.SubmitOrder(ctx, limit("l1", base-4)); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "l1 accepted", is("l1", broker.Accepted))
}

// TestSessionLimitForcesOldestOut: past the venue's session limit a new
// login forces the oldest session of the plant out (77).
func TestSessionLimitForcesOldestOut(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}, MaxSessions: 1})
	defer stop()
	c1 := dial(t, v)
	defer c1.Close()
	c2 := dial(t, v)
	defer c2.Close()
	ctx := ctx10(t)
	if err := v.WaitStats(ctx, func(s rvenue.Stats) bool { return s.ForcedLogouts >= 1 }); err != nil {
		t.Fatal(err)
	}
}

// TestNewOrderAnswerLostAfterActing: the venue acts on the order, then
// the connection drops before the answer. The order exists; the
// connector must find it in the snapshot and not send it again.
func TestNewOrderAnswerLostAfterActing(t *testing.T) {
	for _, kind := range []string{"order", "bracket"} {
		t.Run(kind, func(t *testing.T) {
			v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
			defer stop()
			c := dial(t, v)
			defer c.Close()
			ev := collect(t, c)
			newClock(v)
			v.DropAfterActing(1)
			ctx := ctx10(t)
			var err error
			if kind == "order" {
				err = c.SubmitOrder(ctx, limit("x1", base-4))
			} else {
				err = c.SubmitBracket(ctx, brokertest.Bracket(limit("x1", base-4), -20, 20))
			}
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			if c.Syncs() < 2 {
				t.Fatal("submit returned before the reconciliation")
			}
			if n := accepted(v, "x1"); n != 1 {
				t.Fatalf("venue accepted x1 %d times, want once", n)
			}
			ev.wait(t, "x1 accepted", is("x1", broker.Accepted))
			if kind == "bracket" {
				ev.wait(t, "stop pending", is("x1.stop", broker.Accepted))
				if n := ev.count(is("x1.stop", broker.Accepted)); n != 1 {
					t.Fatalf("stop accepted %d times", n)
				}
			}
			open, err := c.OpenOrders(ctx, "A")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{"order": 1, "bracket": 3}[kind]; len(open) != want {
				t.Fatalf("open orders %+v, want %d", open, want)
			}
		})
	}
}

// TestNewOrderDroppedBeforeActing: the connection drops with the new
// order unread. The snapshot shows it absent: sent once more, and placed
// once.
func TestNewOrderDroppedBeforeActing(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	newClock(v)
	v.DropBeforeActing(1)
	ctx := ctx10(t)
	if err := c.SubmitOrder(ctx, limit("x1", base-4)); err != nil {
		t.Fatalf("submit: %v", err)
	}
	if n := accepted(v, "x1"); n != 1 {
		t.Fatalf("venue accepted x1 %d times, want once", n)
	}
	ev.wait(t, "x1 accepted", is("x1", broker.Accepted))
	if s := v.Stats(); s.NewOrders != 1 {
		t.Fatalf("venue acted on %d new orders, want 1", s.NewOrders)
	}
}

// TestConformanceLateNotifications: the whole suite with every 351
// delivered 20 ms late, behind the 352s and the responses.
func TestConformanceLateNotifications(t *testing.T) {
	brokertest.Run(t, brokertest.Harness{New: func(t *testing.T, accounts []string) (broker.Broker, brokertest.Market) {
		v, stop := startVenue(t, rvenue.Config{Accounts: accounts})
		t.Cleanup(stop)
		v.LateNotifications(20 * time.Millisecond)
		c := dial(t, v)
		t.Cleanup(func() { c.Close() })
		return c, &venueMarket{v: v, tp: startTape(t, c)}
	}})
}

// TestPnLPlantDown: with the PnL plant down, orders still work and
// Positions waits for the plant to come back.
func TestPnLPlantDown(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	ck := newClock(v)
	v.PlantDown(rvenue.PnL, 500*time.Millisecond)
	ctx := ctx10(t)
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "m1", Account: "A", Side: market.Buy, Qty: 2, Type: market.MarketOrder}); err != nil {
		t.Fatal(err)
	}
	ck.trade(0, 5)
	ev.wait(t, "m1 filled", is("m1", broker.FilledEv))
	ps, err := c.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Qty != 2 || ps[0].CostTick != 2*int64(base) {
		t.Fatalf("positions %+v", ps)
	}
	if v.Stats().LoginsRefused == 0 {
		t.Fatal("the PnL plant was never refused: the test proved nothing")
	}
}

// TestRejects: a 75 instead of an answer. A new order is refused (error
// and RejectedEv, not sent again); a liquidation is retried.
func TestRejects(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	ck := newClock(v)
	ctx := ctx10(t)
	v.RejectNext(1)
	if err := c.SubmitOrder(ctx, limit("r1", base-4)); !errors.Is(err, broker.ErrInvalid) {
		t.Fatalf("rejected submit: %v", err)
	}
	ev.wait(t, "r1 rejected", is("r1", broker.RejectedEv))
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "m1", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder}); err != nil {
		t.Fatal(err)
	}
	ck.trade(0, 5)
	ev.wait(t, "m1 filled", is("m1", broker.FilledEv))
	v.RejectNext(2)
	if err := c.Liquidate(ctx, "A"); err != nil {
		t.Fatalf("liquidate through rejects: %v", err)
	}
	ck.trade(0, 5)
	ev.wait(t, "flat", func(e broker.Event) bool { return e.Kind == broker.FilledEv && e.Side == market.Sell })
	if p := v.Positions()[0]; p.Qty != 0 {
		t.Fatalf("position %+v after liquidate", p)
	}
}

// TestSilentServer: the order plant stops answering (no heartbeat
// answers): the connector takes it for dead, reconnects and reconciles.
func TestSilentServer(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}, HeartbeatEvery: 200 * time.Millisecond})
	defer stop()
	cfg, creds := clientConfig(v)
	o := options(t)
	o.DeadAfter = 500 * time.Millisecond
	c, err := rithmic.Dial(ctx10(t), cfg, creds, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v.Silence(rvenue.Order, 2*time.Second)
	if err := c.WaitSynced(ctx10(t), 2); err != nil {
		t.Fatal(err)
	}
}

// TestMissedWhileDisconnected: the bracket's stop fills and its target is
// cancelled (OCO) while the order plant is down; after the reconnect the
// fill comes from the execution replay and the cancel from the snapshot,
// each once.
func TestMissedWhileDisconnected(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	ck := newClock(v)
	ctx := ctx10(t)
	if err := c.SubmitBracket(ctx, brokertest.Bracket(limit("e1", base-2), -10, 10)); err != nil {
		t.Fatal(err)
	}
	ck.trade(-3, 5)
	ev.wait(t, "stop armed", func(e broker.Event) bool {
		return e.ClientID == "e1.stop" && e.Kind == broker.Modified && e.LeavesQty == 1
	})
	ev.wait(t, "target armed", func(e broker.Event) bool {
		return e.ClientID == "e1.target" && e.Kind == broker.Modified && e.LeavesQty == 1
	})
	v.PlantDown(rvenue.Order, 300*time.Millisecond)
	ck.trade(-12, 5) // through the stop at base-10 (the entry filled at its limit, base-2, 8 ticks above it)
	if err := c.WaitSynced(ctx, 2); err != nil {
		t.Fatal(err)
	}
	f := ev.wait(t, "stop filled", is("e1.stop", broker.FilledEv))
	if f.FillPrice != base-12 || f.Slippage != 2 {
		t.Fatalf("stop fill %+v", f)
	}
	ev.wait(t, "target cancelled", is("e1.target", broker.CancelledEv))
	for _, k := range []broker.EventKind{broker.FilledEv, broker.CancelledEv} {
		for _, id := range []string{"e1.stop", "e1.target"} {
			if n := ev.count(is(id, k)); n > 1 {
				t.Fatalf("%s %s delivered %d times", id, k, n)
			}
		}
	}
	ps, err := c.Positions(ctx)
	if err != nil || ps[0].Qty != 0 {
		t.Fatalf("positions %+v %v", ps, err)
	}
}

// TestRestartRecovers: a second connector (the desk restarted) on the
// first one's orders: it replays the session's fills, names the bracket's
// exits by the desk's ids, and can move and cancel them.
func TestRestartRecovers(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c1 := dial(t, v)
	ev1 := collect(t, c1)
	ck := newClock(v)
	ctx := ctx10(t)
	if err := c1.SubmitBracket(ctx, brokertest.Bracket(limit("e1", base-2), -10, 10)); err != nil {
		t.Fatal(err)
	}
	ck.trade(-3, 5)
	ev1.wait(t, "target armed", func(e broker.Event) bool { return e.ClientID == "e1.target" && e.Kind == broker.Modified })
	c1.Close()

	c2 := dial(t, v)
	defer c2.Close()
	ev2 := collect(t, c2)
	f := ev2.wait(t, "entry fill replayed", is("e1", broker.FilledEv))
	f1 := ev1.wait(t, "entry fill", is("e1", broker.FilledEv))
	if f.VenueID != f1.VenueID || f.VenueID == "" {
		t.Fatalf("replayed fill venue id %q, first %q: a desk could not tell it from a new one", f.VenueID, f1.VenueID)
	}
	open, err := c2.OpenOrders(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]broker.OrderState{}
	for _, o := range open {
		ids[o.ClientID] = o
	}
	if ids["e1.stop"].Role != broker.StopLeg || ids["e1.target"].Role != broker.TargetLeg || ids["e1.stop"].StopPrice != base-10 {
		t.Fatalf("open orders after a restart: %+v", open)
	}
	if err := c2.Modify(ctx, "A", "e1.stop", 0, base-6); err != nil {
		t.Fatalf("move the stop after a restart: %v", err)
	}
	ev2.wait(t, "stop moved", is("e1.stop", broker.Modified))
	if err := c2.Liquidate(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	ck.trade(-3, 5)
	ev2.wait(t, "liquidated", func(e broker.Event) bool { return e.Kind == broker.FilledEv && e.Side == market.Sell })
	if p := v.Positions()[0]; p.Qty != 0 {
		t.Fatalf("position %+v", p)
	}
}

// TestStopOnlyTightens: a bracket's stop moved away from the market is
// refused by the connector (error and RejectedEv) and stays where it was;
// moved toward it, it moves at the venue.
func TestStopOnlyTightens(t *testing.T) {
	for _, side := range []market.Side{market.Buy, market.Sell} {
		t.Run(side.String(), func(t *testing.T) {
			v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
			defer stop()
			c := dial(t, v)
			defer c.Close()
			ev := collect(t, c)
			ck := newClock(v)
			ctx := ctx10(t)
			d := market.Price(side.Sign())
			e := broker.Order{ClientID: "e1", Account: "A", Side: side, Qty: 1, Type: market.LimitOrder, Price: base - 2*d, TIF: broker.Day}
			if err := c.SubmitBracket(ctx, brokertest.Bracket(e, -10*int(d), 10*int(d))); err != nil {
				t.Fatal(err)
			}
			ck.trade(-3*int(d), 5)
			ev.wait(t, "stop armed", func(e broker.Event) bool { return e.ClientID == "e1.stop" && e.Kind == broker.Modified })
			looser := base - 11*d
			err := c.Modify(ctx, "A", "e1.stop", 0, looser)
			if !errors.Is(err, broker.ErrInvalid) {
				t.Fatalf("a looser stop: %v, want ErrInvalid", err)
			}
			ev.wait(t, "refusal", is("e1.stop", broker.RejectedEv))
			if got := stopAt(t, v); got != base-10*d {
				t.Fatalf("venue stop %s after a refused loosening, want %s", got, base-10*d)
			}
			if err := c.Modify(ctx, "A", "e1.stop", 0, base-7*d); err != nil {
				t.Fatalf("a tighter stop: %v", err)
			}
			ev.wait(t, "moved", is("e1.stop", broker.Modified))
			if got := stopAt(t, v); got != base-7*d {
				t.Fatalf("venue stop %s after tightening, want %s", got, base-7*d)
			}
		})
	}
}

func stopAt(t *testing.T, v *rvenue.Venue) market.Price {
	t.Helper()
	open, _ := v.Engine().OpenOrders(context.Background(), "A")
	for _, o := range open {
		if o.Role == broker.StopLeg {
			return o.StopPrice
		}
	}
	t.Fatal("no stop at the venue")
	return 0
}

// TestLiquidateTwiceConcurrently never flattens twice: the position ends
// flat, not reversed.
func TestLiquidateTwiceConcurrently(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	ck := newClock(v)
	ctx := ctx10(t)
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "m1", Account: "A", Side: market.Buy, Qty: 3, Type: market.MarketOrder}); err != nil {
		t.Fatal(err)
	}
	ck.trade(0, 5)
	ev.wait(t, "m1 filled", is("m1", broker.FilledEv))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Liquidate(ctx, "A"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ck.trade(0, 10)
	ck.trade(0, 10)
	if err := c.CancelAll(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if p := v.Positions()[0]; p.Qty != 0 {
		t.Fatalf("position %+v after two liquidations", p)
	}
}

// TestUnknownOutcomeIsNotPlaced: a new order's answer is lost and the
// order plant stays down past the connector's wait. The submission fails
// as disconnected; submitting it again is refused — neither reported
// placed nor sent — until a reconciliation has looked for it. Then: found
// (the venue had acted) it is not sent again; absent (it had not) it is
// sent once.
func TestUnknownOutcomeIsNotPlaced(t *testing.T) {
	for _, acted := range []bool{true, false} {
		t.Run(fmt.Sprintf("acted=%v", acted), func(t *testing.T) {
			v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
			defer stop()
			cfg, creds := clientConfig(v)
			o := options(t)
			o.RequestTimeout = 200 * time.Millisecond // the wait for the reconciliation is 3 × this
			c, err := rithmic.Dial(ctx10(t), cfg, creds, o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			newClock(v)
			v.RefuseLogins(rvenue.Order, 2*time.Second)
			if acted {
				v.DropAfterActing(1)
			} else {
				v.DropBeforeActing(1)
			}
			if err := c.SubmitOrder(context.Background(), limit("u1", base-4)); !errors.Is(err, broker.ErrDisconnected) {
				t.Fatalf("submit whose answer is lost: %v, want ErrDisconnected", err)
			}
			if err := c.SubmitOrder(context.Background(), limit("u1", base-4)); !errors.Is(err, broker.ErrDisconnected) {
				t.Fatalf("resubmitted before reconciliation: %v, want ErrDisconnected", err)
			}
			if err := c.WaitSynced(ctx10(t), 2); err != nil {
				t.Fatal(err)
			}
			if err := c.SubmitOrder(ctx10(t), limit("u1", base-4)); err != nil {
				t.Fatalf("after reconciliation: %v", err)
			}
			if n := accepted(v, "u1"); n != 1 {
				t.Fatalf("venue accepted u1 %d times, want once", n)
			}
			if s := v.Stats(); s.NewOrders != 1 {
				t.Fatalf("venue acted on %d new orders, want 1", s.NewOrders)
			}
		})
	}
}

// backoffs records the order plant's reconnect delays from the
// connector's log ("plant down; reconnecting", backoff=…).
type backoffs struct {
	mu    sync.Mutex
	plant string
	got   []time.Duration
	attrs []slog.Attr
}

func (b *backoffs) Enabled(context.Context, slog.Level) bool { return true }
func (b *backoffs) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "rithmic: plant down; reconnecting" {
		return nil
	}
	plant := ""
	for _, a := range b.attrs {
		if a.Key == "plant" {
			plant = a.Value.String()
		}
	}
	var d time.Duration
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "backoff" {
			d = a.Value.Duration()
		}
		return true
	})
	if plant == "order" {
		b.mu.Lock()
		b.got = append(b.got, d)
		b.mu.Unlock()
	}
	return nil
}
func (b *backoffs) WithAttrs(as []slog.Attr) slog.Handler {
	return &backoffsView{b: b, attrs: as}
}
func (b *backoffs) WithGroup(string) slog.Handler { return b }

// backoffsView is the handler with a logger's attributes (the plant).
type backoffsView struct {
	b     *backoffs
	attrs []slog.Attr
}

func (v *backoffsView) Enabled(context.Context, slog.Level) bool { return true }
func (v *backoffsView) Handle(ctx context.Context, r slog.Record) error {
	c := &backoffs{attrs: v.attrs}
	if err := c.Handle(ctx, r); err != nil {
		return err
	}
	v.b.mu.Lock()
	v.b.got = append(v.b.got, c.got...)
	v.b.mu.Unlock()
	return nil
}
func (v *backoffsView) WithAttrs(as []slog.Attr) slog.Handler {
	return &backoffsView{b: v.b, attrs: append(append([]slog.Attr(nil), v.attrs...), as...)}
}
func (v *backoffsView) WithGroup(string) slog.Handler { return v }

// TestForcedLogoutThenRejectsBacksOffFromTheStart: a forced logout (77)
// waits MaxBackoff once; the setup requests of the next logins refused
// (75, "try again") retry from Backoff, doubling — not MaxBackoff each
// (the drill's venue-faults-rithmic: a 77 then three 75s left the order
// plant down for 20 s with a 5 s MaxBackoff).
func TestForcedLogoutThenRejectsBacksOffFromTheStart(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	rec := &backoffs{}
	cfg, creds := clientConfig(v)
	opt := options(t)
	opt.Log = slog.New(rec)
	ctx := ctx10(t)
	c, err := rithmic.Dial(ctx, cfg, creds, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	newClock(v)
	// The 75s are armed before the 77: the connector waits MaxBackoff
	// before it logs in again, and each of its next three setups meets one.
	v.RejectNext(3)
	v.ForceLogout(rvenue.Order)
	if err := c.WaitSynced(ctx, 2); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	got := append([]time.Duration(nil), rec.got...)
	rec.mu.Unlock()
	want := []time.Duration{opt.MaxBackoff, opt.Backoff, 2 * opt.Backoff, 4 * opt.Backoff}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("order plant reconnect delays %v, want %v", got, want)
	}
	if s := v.Stats(); s.ForcedLogouts != 1 || s.Logins[rvenue.Order] != 5 {
		t.Fatalf("stats %+v: want one forced logout and 5 order plant logins", s)
	}
}

// TestReplayFindsFillsBeforeALiveOne: a bracket's entry acted on and its
// answer lost; the entry fills while the order plant is away, and its
// stop fills 400 s later (venue time) just after the new session has
// subscribed, before the execution replay. The replay must still bring
// the entry's fill: it covers the session, not a window before the
// latest fill seen (a live fill on the new session had moved that window
// past the entry's: the desk booked the stop's sell without the entry's
// buy and held a short of 5 the venue did not have — drill
// venue-faults-rithmic, seed 3).
func TestReplayFindsFillsBeforeALiveOne(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ev := collect(t, c)
	ck := newClock(v)
	var once [2]sync.Once
	v.BeforeRequest(func(plant rpb.InfraType, tpl int32) {
		if plant != rvenue.Order {
			return
		}
		switch tpl {
		case rpb.TLoginInfoRequest: // the new session's first setup request: not subscribed yet
			once[0].Do(func() { ck.trade(-4, 1) }) // the entry fills at its limit
		case rpb.TAccountRmsUpdatesRequest: // subscribed to the order updates, not reconciled
			once[1].Do(func() {
				ck.ns += int64(400 * time.Second)
				ck.trade(-21, 1) // through the stop at base-20
			})
		}
	})
	v.DropAfterActing(1)
	ctx := ctx10(t)
	if err := c.SubmitBracket(ctx, brokertest.Bracket(limit("x1", base-4), -20, 20)); err != nil {
		t.Fatalf("submit: %v", err)
	}
	v.BeforeRequest(nil)
	ev.wait(t, "x1 filled", is("x1", broker.FilledEv))
	ev.wait(t, "x1.stop filled", is("x1.stop", broker.FilledEv))
	var net int64
	ev.mu.Lock()
	for _, e := range ev.all {
		if e.Kind == broker.FilledEv || e.Kind == broker.PartiallyFilled {
			net += e.FillQty * e.Side.Sign()
		}
	}
	ev.mu.Unlock()
	if p := v.Positions()[0]; p.Qty != 0 || net != 0 {
		t.Fatalf("venue position %d, position from the connector's fills %d: want both flat", p.Qty, net)
	}
}
