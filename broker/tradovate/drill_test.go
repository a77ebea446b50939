// This file is the disconnect drills over loopback: the WebSocket dropped
// while the venue keeps matching (resync, no event lost or repeated), REST
// 5xx before and after the venue acted (retries idempotent by ClientID),
// penalty tickets, and tokens expiring mid-session.

package tradovate_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

// sameEvents checks a client's events against the venue engine's history,
// field by field (Seq is the client's own, contiguous from 1).
func sameEvents(t *testing.T, got, want []broker.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, venue has %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.Seq != uint64(i+1) {
			t.Errorf("event %d has Seq %d", i, g.Seq)
		}
		if g.VenueID == "" {
			t.Errorf("event %d has no venue id", i)
		}
		g.Seq, w.Seq = 0, 0
		// The venue's report and order ids, the order's status and what
		// the order is: the sim's own events have none.
		g.VenueID, g.VenueOrder, g.Status = "", "", 0
		g.OrderType, g.Price, g.StopPrice = 0, 0, 0
		if g != w {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// drain reads events until the client has as many as the venue's history
// and then checks that nothing more arrives before a barrier would.
func drainAll(t *testing.T, c interface{ Events() <-chan broker.Event }, v *venue.Venue) []broker.Event {
	t.Helper()
	return collect(t, c.Events(), len(v.History()))
}

func TestDropWebSocketResync(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A", "B"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ctx := context.Background()
	base := int64(1_710_250_200_000_000_000)
	px := market.MustPrice("5100.00")
	v.Trade(market.Trade{Time: base, Price: px, Size: 1})
	var got []broker.Event
	for round := 1; round <= 6; round++ {
		acct := []string{"A", "B"}[round%2]
		id := fmt.Sprintf("e%d", round)
		b := broker.Bracket{
			Entry:  broker.Order{ClientID: id, Account: acct, Side: market.Buy, Qty: int64(round), Type: market.LimitOrder, Price: px - 2},
			Stop:   broker.Order{ClientID: id + ".s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 8},
			Target: broker.Order{ClientID: id + ".t", Side: market.Sell, Type: market.LimitOrder, Price: px + 4},
		}
		if err := c.SubmitBracket(ctx, b); err != nil {
			t.Fatal(err)
		}
		syncs := c.Syncs()
		v.DropWebSockets()
		// The venue keeps matching while the client is away: the entry
		// fills in two parts, the exits are armed, the target fills.
		for i, p := range []market.Price{px - 2, px - 3, px + 1, px + 5} {
			v.Trade(market.Trade{Time: base + int64(round)*1e10 + int64(i)*1e9, Price: p, Size: int64(round)})
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := c.WaitSynced(wctx, syncs+1); err != nil {
			t.Fatal(err)
		}
		cancel()
		got = append(got, collect(t, c.Events(), len(v.History())-len(got))...)
	}
	sameEvents(t, got, v.History())
	ps, err := c.Positions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vp := v.Positions()
	if fmt.Sprint(ps) != fmt.Sprint(vp) {
		t.Errorf("positions after drops:\n got %+v\nwant %+v", ps, vp)
	}
	for _, a := range []string{"A", "B"} {
		co, err := c.OpenOrders(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		vo, _ := v.Engine().OpenOrders(ctx, a)
		if len(co) != len(vo) {
			t.Errorf("%s open orders: client %d, venue %d", a, len(co), len(vo))
		}
	}
}

func TestREST5xx(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ctx := context.Background()
	v.Trade(trade(1_710_250_200_000_000_000, "5100.00", 1, market.Buy))
	lim := func(id string) broker.Order {
		return broker.Order{ClientID: id, Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: market.MustPrice("5090.00"), TIF: broker.Day}
	}
	// 5xx before the venue acted: retried.
	v.FailNextREST(2, http.StatusServiceUnavailable)
	if err := c.SubmitOrder(ctx, lim("o1")); err != nil {
		t.Fatalf("submit through two 503s: %v", err)
	}
	// 5xx after the venue acted: the connector finds the order by its
	// clOrdId instead of sending it again.
	v.FailNextRESTAfter(1, http.StatusBadGateway)
	if err := c.SubmitOrder(ctx, lim("o2")); err != nil {
		t.Fatalf("submit through a 502 after acting: %v", err)
	}
	// More failures than retries: an error, and a later resubmission of the
	// same ClientID is still one order.
	v.FailNextREST(100, http.StatusInternalServerError)
	if err := c.SubmitOrder(ctx, lim("o3")); err == nil {
		t.Fatal("submit through 100 failures succeeded")
	}
	v.FailNextREST(0, 0)
	for range 2 {
		if err := c.SubmitOrder(ctx, lim("o3")); err != nil {
			t.Fatal(err)
		}
	}
	// Cancels are safe to retry.
	v.FailNextREST(1, http.StatusServiceUnavailable)
	if err := c.Cancel(ctx, "A", "o1"); err != nil {
		t.Fatal(err)
	}
	got := drainAll(t, c, v)
	sameEvents(t, got, v.History())
	n := map[string]int{}
	for _, ev := range got {
		if ev.Kind == broker.Accepted {
			n[ev.ClientID]++
		}
	}
	for _, id := range []string{"o1", "o2", "o3"} {
		if n[id] != 1 {
			t.Errorf("%s accepted %d times, want 1", id, n[id])
		}
	}
	if s := v.Stats(); s.Injected5xx < 4 {
		t.Errorf("venue injected %d failures", s.Injected5xx)
	}
}

func TestPenaltyTicket(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	v.Trade(trade(1_710_250_200_000_000_000, "5100.00", 1, market.Buy))
	v.PenalizeNext(1, 1)
	start := time.Now()
	o := broker.Order{ClientID: "p1", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: market.MustPrice("5090.00"), TIF: broker.Day}
	if err := c.SubmitOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("answered after %v: the p-time (1 s) was not waited", el)
	}
	if s := v.Stats(); s.Penalties != 1 {
		t.Errorf("penalties %d, want 1", s.Penalties)
	}
	sameEvents(t, drainAll(t, c, v), v.History())
}

func TestTokenExpiryMidSession(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}, TokenLifetime: 1500 * time.Millisecond})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v.Trade(trade(1_710_250_200_000_000_000, "5100.00", 1, market.Buy))
	// Renewal before expiry (half the 1.5 s life).
	if err := v.WaitStats(ctx, func(s venue.Stats) bool { return s.Renewals >= 2 }); err != nil {
		t.Fatalf("no proactive renewal: %v", err)
	}
	// Every token expires at once: REST answers 401, the connector renews
	// (refused: expired) and authenticates again; the socket reconnects.
	v.ExpireTokens()
	v.DropWebSockets()
	auths := v.Stats().Auths
	o := broker.Order{ClientID: "x1", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: market.MustPrice("5090.00"), TIF: broker.Day}
	if err := c.SubmitOrder(ctx, o); err != nil {
		t.Fatalf("submit with expired tokens: %v", err)
	}
	if v.Stats().Auths <= auths {
		t.Error("no new accesstokenrequest after the tokens expired")
	}
	if err := c.WaitSynced(ctx, 2); err != nil {
		t.Fatal(err)
	}
	sameEvents(t, drainAll(t, c, v), v.History())
}

func TestWrongPassword(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	cfg, _ := clientConfig(v)
	_, err := tradovateDial(cfg, "nope")
	if err == nil {
		t.Fatal("dial with a wrong password succeeded")
	}
}

// TestVenueRestart: the venue restarts (listener and sockets gone, tokens
// forgotten, orders kept). Connected and Subscribed go false while it is
// away, the connector authenticates again, resynchronises and resubscribes,
// and trades flow again; the bracket is still there.
func TestVenueRestart(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, err := c.Feed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	px := market.MustPrice("5100.00")
	b := broker.Bracket{
		Entry:  broker.Order{ClientID: "r1", Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder, Price: px - 8},
		Stop:   broker.Order{ClientID: "r1.s", Side: market.Sell, Type: market.StopOrder, StopPrice: px - 16},
		Target: broker.Order{ClientID: "r1.t", Side: market.Sell, Type: market.LimitOrder, Price: px + 8},
	}
	if err := c.SubmitBracket(ctx, b); err != nil {
		t.Fatal(err)
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("%s: %v", what, ctx.Err())
			case <-time.After(5 * time.Millisecond): // polling an outside state
			}
		}
	}
	eventually("connected before", func() bool { return c.Connected() && f.Subscribed() })
	syncs := c.Syncs()
	bounced := make(chan error, 1)
	go func() { bounced <- v.Bounce(ctx, 300*time.Millisecond) }()
	eventually("down during the restart", func() bool { return !c.Connected() && !f.Subscribed() })
	if err := <-bounced; err != nil {
		t.Fatal(err)
	}
	if err := c.WaitSynced(ctx, syncs+1); err != nil {
		t.Fatal(err)
	}
	eventually("up after the restart", func() bool { return c.Connected() && f.Subscribed() })
	if v.Stats().Auths < 2 {
		t.Fatalf("the connector did not authenticate again (%d auths)", v.Stats().Auths)
	}
	v.Trade(market.Trade{Time: 1_710_250_200_000_000_000, Price: px, Size: 3})
	got, err := f.Next()
	if err != nil || got.Price != px {
		t.Fatalf("trade after the restart: %+v, %v", got, err)
	}
	open, err := c.OpenOrders(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 3 || open[0].ClientID != "r1" || open[0].Status != broker.Working {
		t.Fatalf("open orders after the restart (the entry and its two pending exits): %+v", open)
	}
}
