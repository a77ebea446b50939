// This file pins the connector against the venue doing each unfriendly
// part of the real protocol (issue 13's list): penalty tickets in a
// WebSocket reply, a silent server, `c` close frames, HTTP 429 with an
// empty body, execution reports out of id order, capped list answers,
// commands pushed late or with an empty clOrdId, placements answered with
// neither an order id nor a failure, busts and corrections, positions
// carried from an earlier trade date, orders placed elsewhere, the
// broker's own risk and cash balance, and a multi-account liquidation.
// Each test fails against the connector as it was before.

package tradovate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

const t0 = int64(1_710_250_200_000_000_000) // 2024-03-12 13:30 UTC

func dialOpts(t testing.TB, v *venue.Venue, opt tradovate.Options) *tradovate.Client {
	t.Helper()
	cfg, creds := clientConfig(v)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if opt.Backoff == 0 {
		opt.Backoff, opt.MaxBackoff = 10*time.Millisecond, 200*time.Millisecond
	}
	opt.Log = testLog(t)
	c, err := tradovate.Dial(ctx, cfg, creds, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func limit(id, acct string, side market.Side, px string) broker.Order {
	return broker.Order{ClientID: id, Account: acct, Side: side, Qty: 1, Type: market.LimitOrder, Price: market.MustPrice(px), TIF: broker.Day}
}

// waitEv reads events until one matches, returning it and those before.
func waitEv(t *testing.T, c *tradovate.Client, what string, ok func(broker.Event) bool) (broker.Event, []broker.Event) {
	t.Helper()
	var seen []broker.Event
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev := <-c.Events():
			if ok(ev) {
				return ev, seen
			}
			seen = append(seen, ev)
		case <-timer.C:
			t.Fatalf("no %s within 10s; saw %+v", what, seen)
		}
	}
}

// accepted counts the venue's Accepted events per ClientID.
func accepted(v *venue.Venue) map[string]int {
	n := map[string]int{}
	for _, ev := range v.History() {
		if ev.Kind == broker.Accepted {
			n[ev.Account+"/"+ev.ClientID]++
		}
	}
	return n
}

// TestSyncPenaltyTicket: a user/syncrequest answered with a penalty
// ticket in d is not a snapshot; the connector waits p-time, asks again
// with the ticket, and is connected only on the real snapshot.
func TestSyncPenaltyTicket(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	v.PenalizeSocketNext(1, 1, false)
	c := dialOpts(t, v, tradovate.Options{})
	if s := v.Stats(); s.SocketPenalties != 1 || s.SocketRetried != 1 || s.Syncs != 1 {
		t.Fatalf("dialed after %d penalties, %d retries with the ticket, %d snapshots", s.SocketPenalties, s.SocketRetried, s.Syncs)
	}
	if !c.Connected() || c.Syncs() != 1 {
		t.Fatalf("connected %v after %d syncs", c.Connected(), c.Syncs())
	}
}

// TestSyncCaptcha: a p-captcha on the sync is an error Dial returns (and
// the console can show), not a connection.
func TestSyncCaptcha(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	v.PenalizeSocketNext(1, 0, true)
	cfg, creds := clientConfig(v)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := tradovate.Dial(ctx, cfg, creds, tradovate.Options{Log: testLog(t)})
	if !errors.Is(err, tradovate.ErrCaptcha) {
		t.Fatalf("dial: %v, want ErrCaptcha", err)
	}
}

// TestSilentServer: the venue keeps the user socket open but sends
// nothing, not even heartbeats. The connector marks the link down within
// its silence bound and resynchronises on a new socket.
func TestSilentServer(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}, HeartbeatEvery: 20 * time.Millisecond})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{SilenceTimeout: 200 * time.Millisecond})
	ctx := testCtx(t)
	n := c.Syncs()
	if !v.UserLinked() {
		t.Fatal("venue: no user socket linked after the connector synchronised")
	}
	v.SilenceSockets()
	if v.UserLinked() {
		t.Fatal("venue: a silent socket counted as linked")
	}
	if err := c.WaitConnected(ctx, false); err != nil {
		t.Fatalf("a silent server was not noticed: %v", err)
	}
	if err := c.WaitSynced(ctx, n+1); err != nil {
		t.Fatal(err)
	}
	if !v.UserLinked() {
		t.Fatal("venue: the resynchronised socket not linked")
	}
	v.Trade(trade(t0, "5100.00", 1, market.Buy))
	if err := c.SubmitOrder(ctx, limit("s1", "A", market.Buy, "5090.00")); err != nil {
		t.Fatal(err)
	}
	waitEv(t, c, "s1 accepted", func(ev broker.Event) bool { return ev.ClientID == "s1" && ev.Kind == broker.Accepted })
}

// TestCloseFrame: a `c` frame ends the session; the connector resyncs.
func TestCloseFrame(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	n := c.Syncs()
	v.CloseWebSockets(1000, "maintenance")
	if err := c.WaitSynced(ctx, n+1); err != nil {
		t.Fatal(err)
	}
	if v.Stats().CloseFrames == 0 {
		t.Fatal("no c frame sent")
	}
}

// TestREST429EmptyBody: a 429 with an empty body is retried (it used to
// fail the call), and a placement behind it is one order.
func TestREST429EmptyBody(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	v.Trade(trade(t0, "5100.00", 1, market.Buy))
	v.Fail429Next(2)
	if err := c.SubmitOrder(ctx, limit("r1", "A", market.Buy, "5090.00")); err != nil {
		t.Fatalf("submit behind two 429s: %v", err)
	}
	v.Fail429Next(1)
	if _, err := c.OpenOrders(ctx, "A"); err != nil {
		t.Fatalf("open orders behind a 429: %v", err)
	}
	if n := accepted(v)["A/r1"]; n != 1 || v.Stats().Injected429 != 3 {
		t.Fatalf("r1 accepted %d times after %d 429s", n, v.Stats().Injected429)
	}
}

// sameMultiset compares the client's events with the venue's history as
// multisets of what matters (ClientID, kind, fill), ignoring the
// connector's status reports.
func sameMultiset(t *testing.T, got, want []broker.Event) {
	t.Helper()
	key := func(e broker.Event) string {
		return fmt.Sprintf("%s/%s %v %d@%s %v %s", e.Account, e.ClientID, e.Kind, e.FillQty, e.FillPrice, e.Role, e.GroupID)
	}
	n := map[string]int{}
	for _, e := range want {
		n[key(e)]++
	}
	for _, e := range got {
		if e.Kind == broker.StatusEv {
			continue
		}
		n[key(e)]--
	}
	var bad []string
	for k, d := range n {
		if d != 0 {
			bad = append(bad, fmt.Sprintf("%s: %+d", k, d))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Fatalf("events differ from the venue's (venue − client):\n%s", strings.Join(bad, "\n"))
	}
}

// collectUntil reads events until the venue's history (without StatusEv)
// is matched in count.
func collectAll(t *testing.T, c *tradovate.Client, v *venue.Venue) []broker.Event {
	t.Helper()
	want := len(v.History())
	var got []broker.Event
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	n := 0
	for n < want {
		select {
		case ev := <-c.Events():
			got = append(got, ev)
			if ev.Kind != broker.StatusEv {
				n++
			}
		case <-timer.C:
			t.Fatalf("got %d of %d events: %+v", n, want, got)
		}
	}
	return got
}

// TestReportsOutOfOrder: the venue pushes each step's execution reports
// in reverse id order (and lists them so in the snapshot). Every one
// becomes its event (a high-water mark used to drop the lower ids), once,
// across a dropped socket too.
func TestReportsOutOfOrder(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}, Faults: venue.Faults{ShuffleReports: true}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	px := market.MustPrice("5100.00")
	v.Trade(market.Trade{Time: t0, Price: px, Size: 1})
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("b%d", i)
		if err := c.SubmitBracket(ctx, broker.Bracket{
			Entry:  broker.Order{ClientID: id, Account: "A", Side: market.Buy, Qty: 2, Type: market.LimitOrder, Price: px - 2},
			Stop:   broker.Order{ClientID: id + ".s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 8},
			Target: broker.Order{ClientID: id + ".t", Side: market.Sell, Type: market.LimitOrder, Price: px + 4},
		}); err != nil {
			t.Fatal(err)
		}
		v.Trade(market.Trade{Time: t0 + int64(i)*1e10, Price: px - 2, Size: 5})
		if i == 2 {
			n := c.Syncs()
			v.DropWebSockets()
			v.Trade(market.Trade{Time: t0 + int64(i)*1e10 + 1e9, Price: px - 9, Size: 5}) // stops fill while away
			if err := c.WaitSynced(ctx, n+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	v.Trade(market.Trade{Time: t0 + 9e10, Price: px + 5, Size: 10})
	sameMultiset(t, collectAll(t, c, v), v.History())
}

// TestCappedLists: every list answer is cut to 2 entities. OpenOrders,
// CancelAll and Positions still see everything (they used to see two).
func TestCappedLists(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A", "B", "C"}, Faults: venue.Faults{ListCap: 2}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	v.Trade(trade(t0, "5100.00", 1, market.Buy))
	for i := 0; i < 6; i++ {
		if err := c.SubmitOrder(ctx, limit(fmt.Sprintf("l%d", i), "A", market.Buy, fmt.Sprintf("50%02d.00", 80-i))); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"A", "B", "C"} {
		if err := c.SubmitOrder(ctx, broker.Order{ClientID: "m" + a, Account: a, Side: market.Buy, Qty: 1, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
			t.Fatal(err)
		}
	}
	v.Trade(trade(t0+1e9, "5100.00", 10, market.Buy))
	waitEv(t, c, "mC filled", func(ev broker.Event) bool { return ev.ClientID == "mC" && ev.Kind == broker.FilledEv })
	open, err := c.OpenOrders(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 6 {
		t.Fatalf("OpenOrders: %d orders, the venue has 6", len(open))
	}
	ps, err := c.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Qty != 1 {
			t.Fatalf("positions %+v, every account is long 1", ps)
		}
	}
	if err := c.CancelAll(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if vo, _ := v.Engine().OpenOrders(ctx, "A"); len(vo) != 0 {
		t.Fatalf("CancelAll left %d orders working at the venue", len(vo))
	}
	if v.Stats().CappedLists == 0 {
		t.Fatal("no list answer was cut: the test tests nothing")
	}
}

// TestLateCommands: the command entity (the only one with the clOrdId)
// comes after the execution report and after the REST answer. The events
// still carry the desk's ClientIDs (they used to carry tv-<id>).
func TestLateCommands(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}, Faults: venue.Faults{LateCommands: true}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	px := market.MustPrice("5100.00")
	v.Trade(market.Trade{Time: t0, Price: px, Size: 1})
	if err := c.SubmitOrder(ctx, limit("o1", "A", market.Buy, "5090.00")); err != nil {
		t.Fatal(err)
	}
	if err := c.SubmitBracket(ctx, broker.Bracket{
		Entry:  broker.Order{ClientID: "e1", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder},
		Stop:   broker.Order{ClientID: "e1.s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 8},
		Target: broker.Order{ClientID: "e1.t", Side: market.Sell, Type: market.LimitOrder, Price: px + 8},
	}); err != nil {
		t.Fatal(err)
	}
	v.Trade(market.Trade{Time: t0 + 1e9, Price: px, Size: 1})
	for _, ev := range collectAll(t, c, v) {
		if strings.HasPrefix(ev.ClientID, "tv-") || ev.External {
			t.Fatalf("event of our own order not bound to its ClientID: %+v", ev)
		}
	}
}

// TestEmptyClOrdIDAnswerLost: the venue echoes no clOrdId and the answer
// to a placement that took effect is lost (502 after acting). The
// connector must not send it again: a fresh snapshot shows the order
// (found by content), so it is one order, with our ClientID. It used to
// look for the clOrdId in command/list, not find it, and resend.
func TestEmptyClOrdIDAnswerLost(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}, Faults: venue.Faults{EmptyClOrdID: true, LateCommands: true, ListCap: 1}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	px := market.MustPrice("5100.00")
	v.Trade(market.Trade{Time: t0, Price: px, Size: 1})
	v.FailNextRESTAfter(1, http.StatusBadGateway)
	if err := c.SubmitOrder(ctx, limit("o1", "A", market.Buy, "5090.00")); err != nil {
		t.Fatalf("submit through a lost answer: %v", err)
	}
	v.FailNextRESTAfter(1, http.StatusBadGateway)
	if err := c.SubmitBracket(ctx, broker.Bracket{
		Entry:  broker.Order{ClientID: "e1", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: px - 4},
		Stop:   broker.Order{ClientID: "e1.s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 12},
		Target: broker.Order{ClientID: "e1.t", Side: market.Sell, Type: market.LimitOrder, Price: px + 8},
	}); err != nil {
		t.Fatalf("bracket through a lost answer: %v", err)
	}
	// And a placement whose first try never reached the engine is sent.
	v.FailNextREST(1, http.StatusServiceUnavailable)
	if err := c.SubmitOrder(ctx, limit("o2", "A", market.Buy, "5089.00")); err != nil {
		t.Fatal(err)
	}
	n := accepted(v)
	for _, id := range []string{"A/o1", "A/e1", "A/e1.s", "A/e1.t", "A/o2"} {
		if n[id] != 1 {
			t.Fatalf("%s accepted %d times at the venue (%v)", id, n[id], n)
		}
	}
	v.Trade(market.Trade{Time: t0 + 1e9, Price: px - 4, Size: 1})
	for _, ev := range collectAll(t, c, v) {
		if strings.HasPrefix(ev.ClientID, "tv-") || ev.External {
			t.Fatalf("event not bound to its ClientID: %+v", ev)
		}
	}
}

// TestNoOrderIDAnswer: a placement answered 200 with neither orderId nor
// failure used to count as placed. Placed at the venue, it is found and
// bound; not placed, it is an UnconfirmedError (broker.ErrUnconfirmed),
// the typed error the desk flattens on for a protective stop.
func TestNoOrderIDAnswer(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	v.Trade(trade(t0, "5100.00", 1, market.Buy))
	v.NoOrderIDNext(1, true)
	if err := c.SubmitOrder(ctx, limit("n1", "A", market.Buy, "5090.00")); err != nil {
		t.Fatalf("placed but answered without an id: %v", err)
	}
	if _, err := c.OpenOrders(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	stop1 := broker.Order{ClientID: "n2", Account: "A", Side: market.Sell, Qty: 1, Type: market.StopOrder, StopPrice: market.MustPrice("5090.00"), TIF: broker.GTC}
	v.NoOrderIDNext(1, false)
	err := c.SubmitOrder(ctx, stop1)
	var ue *tradovate.UnconfirmedError
	if !errors.Is(err, broker.ErrUnconfirmed) || !errors.As(err, &ue) || !ue.Absent {
		t.Fatalf("protective stop answered without an id and not placed: %v, want an absent UnconfirmedError", err)
	}
	if n := accepted(v); n["A/n1"] != 1 || n["A/n2"] != 0 {
		t.Fatalf("venue accepted %v", n)
	}
	// A bracket whose answer has no stop id, with the stop at the venue:
	// bound by its command.
	v.NoOrderIDNext(1, true)
	px := market.MustPrice("5100.00")
	if err := c.SubmitBracket(ctx, broker.Bracket{
		Entry:  broker.Order{ClientID: "e1", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: px - 4},
		Stop:   broker.Order{ClientID: "e1.s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 12},
		Target: broker.Order{ClientID: "e1.t", Side: market.Sell, Type: market.LimitOrder, Price: px + 8},
	}); err != nil {
		t.Fatalf("bracket placed, answered without ids: %v", err)
	}
}

// TestBustAndCorrection: a busted trade comes as BustedEv (Ref: the fill
// event's VenueID) and the position goes back; a corrected one as
// CorrectedEv with the new price. Both used to be ignored.
func TestBustAndCorrection(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	v.Trade(trade(t0, "5100.00", 1, market.Buy))
	for _, id := range []string{"m1", "m2"} {
		if err := c.SubmitOrder(ctx, broker.Order{ClientID: id, Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
			t.Fatal(err)
		}
	}
	v.Trade(trade(t0+1e9, "5100.00", 2, market.Buy))
	f1, _ := waitEv(t, c, "m1 filled", func(ev broker.Event) bool { return ev.ClientID == "m1" && ev.Kind == broker.FilledEv })
	f2, _ := waitEv(t, c, "m2 filled", func(ev broker.Event) bool { return ev.ClientID == "m2" && ev.Kind == broker.FilledEv })
	if err := v.Bust("A", "m1"); err != nil {
		t.Fatal(err)
	}
	b, _ := waitEv(t, c, "a bust", func(ev broker.Event) bool { return ev.Kind == broker.BustedEv })
	if b.ClientID != "m1" || b.Ref != f1.VenueID || b.FillQty != 1 || b.FillPrice != f1.FillPrice {
		t.Fatalf("bust %+v of fill %+v", b, f1)
	}
	if err := v.Correct("A", "m2", market.MustPrice("5099.00")); err != nil {
		t.Fatal(err)
	}
	k, _ := waitEv(t, c, "a correction", func(ev broker.Event) bool { return ev.Kind == broker.CorrectedEv })
	if k.ClientID != "m2" || k.Ref != f2.VenueID || k.FillQty != 1 || k.FillPrice != market.MustPrice("5099.00") {
		t.Fatalf("correction %+v of fill %+v", k, f2)
	}
	ps, err := c.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vp := v.Positions()
	if ps[0].Qty != 1 || ps[0].CostTick != int64(market.MustPrice("5099.00")) || ps[0] != vp[0] {
		t.Fatalf("position after the bust and the correction: %+v, venue %+v", ps[0], vp[0])
	}
}

// TestCarriedPosition: a position carried from an earlier trade date
// (prevPos at prevPrice, no trades today) has no realized PnL today (it
// used to show netPos × netPrice as realized), and closing part of it
// realizes against prevPrice, as the venue's engine does.
func TestCarriedPosition(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A", "B"},
		Carried: map[string]venue.Carry{"A": {Qty: 2, Price: market.MustPrice("5000.00")}}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	ps, err := c.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := broker.Position{Account: "A", Qty: 2, AvgPrice: market.MustPrice("5000.00"), CostTick: 2 * int64(market.MustPrice("5000.00")),
		PrevQty: 2, PrevPrice: market.MustPrice("5000.00")}
	if ps[0] != want {
		t.Fatalf("carried position %+v, want %+v", ps[0], want)
	}
	v.Trade(trade(t0, "5002.00", 1, market.Buy))
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "x", Account: "A", Side: market.Sell, Qty: 1, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	v.Trade(trade(t0+1e9, "5002.50", 1, market.Buy))
	waitEv(t, c, "x filled", func(ev broker.Event) bool { return ev.ClientID == "x" && ev.Kind == broker.FilledEv })
	ps, err = c.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ep, _ := v.Engine().Position("A")
	if ps[0].Qty != 1 || ps[0].Realized != 10 || ps[0].Realized != ep.Realized || ps[0].CostTick != ep.CostTick {
		t.Fatalf("after selling 1 of the carried 2 at +10 ticks: %+v, venue %+v", ps[0], ep)
	}
}

// TestExternalOrders: a trader's bracket placed on the broker's own
// platform, and the broker's own auto-liquidation, come as events marked
// External (named tv-<id>), with the bracket's roles, and only the
// auto-liquidation's (an admin order) ByBroker; the auto-liquidation
// makes the account liquidate-only: a RiskStatusEv, "locked at broker",
// and a placement that adds risk refused.
func TestExternalOrders(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}, Faults: venue.Faults{LateCommands: true}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	px := market.MustPrice("5100.00")
	v.Trade(market.Trade{Time: t0, Price: px, Size: 1})
	if err := v.PlaceExternal(broker.Bracket{
		Entry:  broker.Order{ClientID: "manual1", Account: "A", Side: market.Buy, Qty: 2, Type: market.MarketOrder},
		Stop:   broker.Order{ClientID: "manual1.s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 20, TIF: broker.GTC},
		Target: broker.Order{ClientID: "manual1.t", Side: market.Sell, Type: market.LimitOrder, Price: px + 20, TIF: broker.GTC},
	}); err != nil {
		t.Fatal(err)
	}
	v.Trade(market.Trade{Time: t0 + 1e9, Price: px, Size: 5})
	fill, _ := waitEv(t, c, "the manual entry's fill", func(ev broker.Event) bool { return ev.Kind == broker.FilledEv })
	if !fill.External || fill.ByBroker || !strings.HasPrefix(fill.ClientID, "tv-") || fill.Role != broker.EntryLeg || fill.FillQty != 2 || fill.VenueOrder == "" {
		t.Fatalf("manual entry fill %+v", fill)
	}
	open, err := c.OpenOrders(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[broker.Role]bool{}
	for _, o := range open {
		roles[o.Role] = true
		if o.GroupID != fill.ClientID {
			t.Fatalf("exit %+v not grouped with its entry %s", o, fill.ClientID)
		}
	}
	if len(open) != 2 || !roles[broker.StopLeg] || !roles[broker.TargetLeg] {
		t.Fatalf("the manual bracket's exits: %+v", open)
	}
	if err := v.AutoLiquidate("A"); err != nil {
		t.Fatal(err)
	}
	rs, _ := waitEv(t, c, "the risk status", func(ev broker.Event) bool { return ev.Kind == broker.RiskStatusEv })
	if rs.Account != "A" || rs.Status != broker.Rejected || !strings.Contains(rs.Reason, "locked at broker") {
		t.Fatalf("risk status event %+v", rs)
	}
	if st, _ := c.RiskStatus("A"); !st.Locked {
		t.Fatalf("risk status %+v", st)
	}
	v.Trade(market.Trade{Time: t0 + 2e9, Price: px, Size: 5})
	liq, _ := waitEv(t, c, "the auto-liquidation fill", func(ev broker.Event) bool { return ev.Kind == broker.FilledEv && ev.Side == market.Sell })
	if !liq.External || !liq.ByBroker || liq.FillQty != 2 {
		t.Fatalf("auto-liquidation fill %+v", liq)
	}
	err = c.SubmitOrder(ctx, limit("more", "A", market.Buy, "5090.00"))
	if err == nil || !strings.Contains(err.Error(), "LiquidationOnly") {
		t.Fatalf("a risk-adding order on a liquidate-only account: %v", err)
	}
	// The broker's risk check is the account's: a trader's order on the
	// platform that adds risk is refused too (before, it was accepted and
	// filled on the liquidate-only account).
	err = v.PlaceExternal(broker.Bracket{
		Entry:  broker.Order{ClientID: "manual2", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder},
		Stop:   broker.Order{ClientID: "manual2.s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 20, TIF: broker.GTC},
		Target: broker.Order{ClientID: "manual2.t", Side: market.Sell, Type: market.LimitOrder, Price: px + 20, TIF: broker.GTC},
	})
	if !errors.Is(err, venue.ErrRefusedByRisk) || !strings.Contains(err.Error(), "LiquidationOnly") {
		t.Fatalf("a trader's risk-adding bracket on a liquidate-only account: %v", err)
	}
	if err := v.PlaceExternalOrder(broker.Order{ClientID: "manual3", Account: "A", Side: market.Sell, Qty: 1, Type: market.MarketOrder}); !errors.Is(err, venue.ErrRefusedByRisk) {
		t.Fatalf("a trader's risk-adding order on a flat liquidate-only account: %v", err)
	}
	if n := v.Stats().ExternalRefused; n != 2 {
		t.Fatalf("Stats.ExternalRefused %d, want 2", n)
	}
	if err := v.SetRiskStatus("A", "Normal"); err != nil {
		t.Fatal(err)
	}
	back, _ := waitEv(t, c, "the risk status back to normal", func(ev broker.Event) bool { return ev.Kind == broker.RiskStatusEv })
	if back.Status != broker.Working {
		t.Fatalf("risk status event %+v", back)
	}
}

// TestBrokerAutoLiq: the desk's daily loss and flatten time set at the
// broker and read back; refused where the broker locked them; and the
// broker liquidating the account itself once the loss is reached.
func TestBrokerAutoLiq(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A", "B"}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	flat := time.Date(2024, 3, 12, 19, 55, 0, 0, time.UTC)
	got, err := c.SetAutoLiq(ctx, "A", decimal.RequireFromString("50"), flat)
	if err != nil {
		t.Fatal(err)
	}
	if !got.DailyLoss.Equal(decimal.NewFromInt(50)) || !got.FlattenAt.Equal(flat) {
		t.Fatalf("read back %+v", got)
	}
	if dl, ft, ok := v.AutoLiqSettings("A"); !ok || dl != 50 || ft != "2024-03-12T19:55:00Z" {
		t.Fatalf("venue holds %v %q %v", dl, ft, ok)
	}
	if _, err := c.SetAutoLiq(ctx, "A", decimal.RequireFromString("60"), time.Time{}); err != nil { // update
		t.Fatal(err)
	}
	if err := v.LockRiskChanges("B"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetAutoLiq(ctx, "B", decimal.RequireFromString("50"), flat); !errors.Is(err, tradovate.ErrRiskRefused) {
		t.Fatalf("locked settings: %v, want ErrRiskRefused", err)
	}
	// Long 1 at 5100.00; a trade 49 ticks lower is a $61.25 open loss.
	v.Trade(trade(t0, "5100.00", 1, market.Buy))
	if err := c.SubmitOrder(ctx, broker.Order{ClientID: "m", Account: "A", Side: market.Buy, Qty: 1, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	v.Trade(trade(t0+1e9, "5100.00", 1, market.Buy))
	v.Trade(trade(t0+2e9, "5087.75", 1, market.Sell))
	rs, _ := waitEv(t, c, "the broker's lock", func(ev broker.Event) bool { return ev.Kind == broker.RiskStatusEv })
	if rs.Account != "A" || rs.Status != broker.Rejected {
		t.Fatalf("risk status %+v", rs)
	}
	v.Trade(trade(t0+3e9, "5087.50", 1, market.Sell))
	liq, _ := waitEv(t, c, "the broker's liquidation", func(ev broker.Event) bool { return ev.Kind == broker.FilledEv && ev.Side == market.Sell })
	if !liq.External {
		t.Fatalf("liquidation %+v", liq)
	}
	if p, _ := v.Engine().Position("A"); p.Qty != 0 {
		t.Fatalf("venue position %+v after the auto-liquidation", p)
	}
}

// TestCashBalance: the broker's cash balance snapshot, for the desk's
// reconcile: realized and open PnL as the venue books them, and a skew
// the desk never saw shows.
func TestCashBalance(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	v.Trade(trade(t0, "5100.00", 1, market.Buy))
	for i, side := range []market.Side{market.Buy, market.Sell, market.Buy} {
		if err := c.SubmitOrder(ctx, broker.Order{ClientID: fmt.Sprint("m", i), Account: "A", Side: side, Qty: 1, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
			t.Fatal(err)
		}
		v.Trade(trade(t0+int64(i+1)*1e9, fmt.Sprintf("510%d.00", i), 1, market.Buy))
	}
	cash, err := c.CashBalance(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	// Bought 5100, sold 5101: +$5 realized; long 1 from 5102, marked at
	// 5102: open 0.
	if !cash.Realized.Equal(decimal.NewFromInt(5)) || !cash.Open.IsZero() || !cash.TotalCash.Equal(decimal.NewFromInt(50005)) {
		t.Fatalf("cash %+v", cash)
	}
	v.SkewCash("A", -1.20)
	cash, _ = c.CashBalance(ctx, "A")
	if !cash.Realized.Equal(decimal.RequireFromString("3.8")) {
		t.Fatalf("cash after a skew %+v", cash)
	}
}

// TestLiquidateAccounts: one order/liquidatepositions for several
// accounts (after their orders are cancelled: the request is not
// documented to cancel them) leaves every account flat with nothing
// working.
func TestLiquidateAccounts(t *testing.T) {
	accts := []string{"A", "B", "C"}
	v, stop := startVenue(t, venue.Config{Accounts: accts})
	defer stop()
	c := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	px := market.MustPrice("5100.00")
	v.Trade(market.Trade{Time: t0, Price: px, Size: 1})
	for _, a := range accts {
		if err := c.SubmitBracket(ctx, broker.Bracket{
			Entry:  broker.Order{ClientID: a + ".e", Account: a, Side: market.Buy, Qty: 2, Type: market.MarketOrder},
			Stop:   broker.Order{ClientID: a + ".s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 40, TIF: broker.GTC},
			Target: broker.Order{ClientID: a + ".t", Side: market.Sell, Type: market.LimitOrder, Price: px + 40, TIF: broker.GTC},
		}); err != nil {
			t.Fatal(err)
		}
	}
	v.Trade(market.Trade{Time: t0 + 1e9, Price: px, Size: 10})
	for range accts {
		waitEv(t, c, "an entry fill", func(ev broker.Event) bool { return ev.Kind == broker.FilledEv && ev.Role == broker.EntryLeg })
	}
	if err := c.LiquidateAccounts(ctx, accts); err != nil {
		t.Fatal(err)
	}
	v.Trade(market.Trade{Time: t0 + 2e9, Price: px, Size: 10})
	for range accts {
		waitEv(t, c, "a liquidation fill", func(ev broker.Event) bool {
			return ev.Kind == broker.FilledEv && strings.HasPrefix(ev.ClientID, "liquidate.")
		})
	}
	for _, a := range accts {
		p, _ := v.Engine().Position(a)
		open, _ := v.Engine().OpenOrders(ctx, a)
		if p.Qty != 0 || len(open) != 0 {
			t.Fatalf("%s: position %d, %d orders working", a, p.Qty, len(open))
		}
	}
}

// TestLiquidationNamedAcrossRestart: liquidateposition sends no clOrdId,
// so its flattening order is named by the connector. A desk that restarts
// (a new connection) must see it under the same name, or its journal and
// the venue disagree at reconcile (a crash drill round faulted an account
// on "unknown order at the venue: tv-ID").
func TestLiquidationNamedAcrossRestart(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}, Faults: venue.Realistic()})
	defer stop()
	c1 := dialOpts(t, v, tradovate.Options{})
	ctx := testCtx(t)
	v.Trade(trade(t0, "5100.00", 1, market.Buy))
	if err := c1.SubmitOrder(ctx, broker.Order{ClientID: "m", Account: "A", Side: market.Buy, Qty: 2, Type: market.MarketOrder, TIF: broker.Day}); err != nil {
		t.Fatal(err)
	}
	v.Trade(trade(t0+1e9, "5100.00", 5, market.Buy))
	waitEv(t, c1, "m filled", func(ev broker.Event) bool { return ev.ClientID == "m" && ev.Kind == broker.FilledEv })
	if err := c1.Liquidate(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	acc, _ := waitEv(t, c1, "the liquidation accepted", func(ev broker.Event) bool { return ev.Kind == broker.Accepted && ev.ClientID != "m" })
	if !strings.HasPrefix(acc.ClientID, "liquidate.A.") || acc.External {
		t.Fatalf("liquidation order %+v", acc)
	}
	c1.Close() // the desk dies; the order works on at the venue
	c2 := dialOpts(t, v, tradovate.Options{})
	open, err := c2.OpenOrders(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].ClientID != acc.ClientID {
		t.Fatalf("after a restart the venue's open orders are %+v, want %s", open, acc.ClientID)
	}
	v.Trade(trade(t0+2e9, "5100.00", 5, market.Buy))
	f, _ := waitEv(t, c2, "the liquidation filled", func(ev broker.Event) bool { return ev.Kind == broker.FilledEv && ev.Side == market.Sell })
	if f.ClientID != acc.ClientID || f.External {
		t.Fatalf("liquidation fill after a restart %+v, want %s", f, acc.ClientID)
	}
}

// TestRefusedBracketLegsStayTheDesks: a placeoso the venue refuses (an
// entry stop on the wrong side of the market), on a venue that echoes no
// clOrdId: the entry and both legs come back rejected under the venue's
// ids. Every one is the desk's own order, named by its ClientID — never an
// order the desk did not place (the desk would alert "external order" on
// its own refused legs, as a CI run of the built-in desk showed).
func TestRefusedBracketLegsStayTheDesks(t *testing.T) {
	for _, f := range []struct {
		name   string
		faults venue.Faults
	}{{"echoed", venue.Faults{}}, {"no clOrdId", venue.Faults{EmptyClOrdID: true}}, {"realistic", venue.Realistic()}} {
		t.Run(f.name, func(t *testing.T) {
			v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}, Faults: f.faults})
			defer stop()
			c := dialOpts(t, v, tradovate.Options{})
			ctx := testCtx(t)
			px := market.MustPrice("5100.00")
			v.Trade(market.Trade{Time: t0, Price: px, Size: 1})
			err := c.SubmitBracket(ctx, broker.Bracket{
				Entry:  broker.Order{ClientID: "r1", Account: "A", Side: market.Buy, Qty: 1, Type: market.StopOrder, StopPrice: px},
				Stop:   broker.Order{ClientID: "r1.stop", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 12},
				Target: broker.Order{ClientID: "r1.target", Side: market.Sell, Type: market.LimitOrder, Price: px + 8},
			})
			if err == nil {
				t.Fatal("a buy stop at the last trade was placed")
			}
			v.Trade(market.Trade{Time: t0 + 1e9, Price: px, Size: 1})
			for _, ev := range collectAll(t, c, v) {
				if ev.External || strings.HasPrefix(ev.ClientID, "tv-") {
					t.Errorf("the refused bracket's order taken for one the desk did not place: %+v", ev)
				}
			}
		})
	}
}
