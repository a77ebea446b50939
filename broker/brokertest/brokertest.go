// brokertest.go: the exported conformance suite every broker.Broker
// implementation runs: each order type, bracket OSO/OCO paths, a partially
// filled bracket, liquidate with working brackets, idempotent resubmission
// and the rejections.

// Package brokertest is the conformance suite for broker.Broker. A venue
// implementation passes a Harness that builds a fresh broker with accounts
// and a Market to print trades into; Run exercises the contract. Events may
// arrive asynchronously (a connector over loopback): the suite waits for
// each expected event with a deadline, and proves that something did NOT
// happen with a barrier (a marker order whose events must come after any
// event the request could have caused), never with a sleep.
//
// The suite assumes the venue's documented fill semantics (broker/sim):
// market orders fill at the next trade's price, a stop fills at the trade
// that triggers it, a limit fills at its price or better when a trade
// prints through it, and a trade's size is shared in time priority.
//
// It may touch broker, market and the testing package: tests only.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/market"
)

// Market is the venue's trade feed as the suite drives it.
type Market interface {
	// Trade prints one trade at the venue.
	Trade(t market.Trade)
	// Sync returns once the venue has processed every trade printed so far.
	Sync() error
}

// Harness builds the broker under test.
type Harness struct {
	// New returns a fresh venue connection knowing exactly the given
	// accounts, with no trades yet, and its market. The suite closes the
	// broker when the test ends.
	New func(t *testing.T, accounts []string) (broker.Broker, Market)
	// Timeout bounds each wait for an expected event; zero means 5s.
	Timeout time.Duration
}

// Base is the price of the first trade of every test: 5000.00.
const Base market.Price = 5000 * market.TicksPerPoint

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, h Harness) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.f(newSession(t, h))
		})
	}
}

var cases = []struct {
	name string
	f    func(*Session)
}{
	{"market", testMarket},
	{"market_shared_size", testMarketShared},
	{"limit", testLimit},
	{"stop_gap", testStop},
	{"stop_limit", testStopLimit},
	{"modify_stop", testModify},
	{"cancel_all", testCancelAll},
	{"bracket_target", testBracketTarget},
	{"bracket_stop", testBracketStop},
	{"bracket_partial", testBracketPartial},
	{"bracket_cancel_entry", testBracketCancelEntry},
	{"liquidate_with_brackets", testLiquidate},
	{"idempotent", testIdempotent},
	{"rejections", testRejections},
	{"cancel_filled", testCancelFilled},
}

// Session is one test's venue, its market and the events seen so far.
type Session struct {
	T       *testing.T
	B       broker.Broker
	M       Market
	Ctx     context.Context
	timeout time.Duration
	now     int64
	lastSeq uint64
	events  []broker.Event // every event received, in order
	used    []bool         // events[i] was returned by a wait
	mark    int            // events[mark:] are those since the last barrier
	nbar    int
}

func newSession(t *testing.T, h Harness) *Session {
	t.Helper()
	b, m := h.New(t, []string{"A", "B"})
	t.Cleanup(func() { _ = b.Close() })
	to := h.Timeout
	if to == 0 {
		to = 5 * time.Second
	}
	s := &Session{T: t, B: b, M: m, Ctx: t.Context(), timeout: to,
		now: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC).UnixNano()}
	s.Trade(0, 1)
	return s
}

// Trade prints a trade at Base+off ticks and waits for the venue to
// process it.
func (s *Session) Trade(off int, size int64) {
	s.T.Helper()
	s.now += int64(time.Millisecond)
	s.M.Trade(market.Trade{Time: s.now, Price: Base + market.Price(off), Size: size, Aggressor: market.Unknown})
	if err := s.M.Sync(); err != nil {
		s.T.Fatalf("market sync: %v", err)
	}
}

// next receives one event, checking the Seq contract, or fails at the
// deadline.
func (s *Session) next(why string) broker.Event {
	s.T.Helper()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case ev, ok := <-s.B.Events():
		if !ok {
			s.T.Fatalf("event stream closed while waiting for %s", why)
		}
		if s.lastSeq != 0 && ev.Seq != s.lastSeq+1 {
			s.T.Fatalf("event seq %d after %d: want +1 (%s)", ev.Seq, s.lastSeq, fmtEv(ev))
		}
		s.lastSeq = ev.Seq
		s.events = append(s.events, ev)
		s.used = append(s.used, false)
		return ev
	case <-timer.C:
		s.T.Fatalf("timed out after %v waiting for %s; seen:\n%s", s.timeout, why, s.dump())
	}
	return broker.Event{}
}

// Wait returns the next event for clientID of the given kind, failing at the
// deadline. Events for other orders are kept for later assertions.
func (s *Session) Wait(clientID string, kind broker.EventKind) broker.Event {
	s.T.Helper()
	return s.WaitFunc(fmt.Sprintf("%s %s", clientID, kind), func(ev broker.Event) bool {
		return ev.ClientID == clientID && ev.Kind == kind
	})
}

// WaitFunc returns the first event matching ok that has not been returned
// by a wait yet: one received already (while waiting for another) or the
// next to come. Events of different orders may come in any order (a
// venue need not push them in the order they happened), so a wait never
// consumes another order's events.
func (s *Session) WaitFunc(why string, ok func(broker.Event) bool) broker.Event {
	s.T.Helper()
	for i, ev := range s.events {
		if !s.used[i] && ok(ev) {
			s.used[i] = true
			return ev
		}
	}
	for {
		ev := s.next(why)
		if ok(ev) {
			s.used[len(s.events)-1] = true
			return ev
		}
	}
}

// WaitFilled collects the fills of clientID until its FilledEv and returns
// them.
func (s *Session) WaitFilled(clientID string) []broker.Event {
	s.T.Helper()
	var fills []broker.Event
	for {
		ev := s.WaitFunc(clientID+" filled", func(ev broker.Event) bool {
			return ev.ClientID == clientID && (ev.Kind == broker.PartiallyFilled || ev.Kind == broker.FilledEv)
		})
		fills = append(fills, ev)
		if ev.Kind == broker.FilledEv {
			return fills
		}
	}
}

// WaitArmed waits until a bracket leg reports qty working (Accepted or
// Modified with that LeavesQty).
func (s *Session) WaitArmed(clientID string, qty int64) broker.Event {
	s.T.Helper()
	return s.WaitFunc(fmt.Sprintf("%s armed with %d", clientID, qty), func(ev broker.Event) bool {
		return ev.ClientID == clientID && (ev.Kind == broker.Modified || ev.Kind == broker.Accepted) && ev.LeavesQty == qty
	})
}

// Barrier places and cancels a marker order on account A and returns every
// event received since the previous barrier, the marker's own excluded:
// since events come in Seq order, anything an earlier request or trade
// caused is among them.
func (s *Session) Barrier() []broker.Event {
	s.T.Helper()
	s.nbar++
	id := fmt.Sprintf("barrier.%d", s.nbar)
	o := broker.Order{ClientID: id, Account: "A", Side: market.Buy, Qty: 1, Type: market.LimitOrder,
		Price: Base - 200, TIF: broker.Day}
	if err := s.B.SubmitOrder(s.Ctx, o); err != nil {
		s.T.Fatalf("barrier order: %v", err)
	}
	s.Wait(id, broker.Accepted)
	if err := s.B.Cancel(s.Ctx, "A", id); err != nil {
		s.T.Fatalf("barrier cancel: %v", err)
	}
	s.Wait(id, broker.CancelledEv)
	var out []broker.Event
	for _, ev := range s.events[s.mark:] {
		if ev.ClientID != id {
			out = append(out, ev)
		}
	}
	s.mark = len(s.events)
	return out
}

// NoEvent fails if any event since the last barrier matches bad.
func (s *Session) NoEvent(what string, bad func(broker.Event) bool) {
	s.T.Helper()
	for _, ev := range s.Barrier() {
		if bad(ev) {
			s.T.Fatalf("%s: unexpected event %s", what, fmtEv(ev))
		}
	}
}

func (s *Session) submit(o broker.Order) {
	s.T.Helper()
	if o.Account == "" {
		o.Account = "A"
	}
	if o.TIF == 0 {
		o.TIF = broker.Day
	}
	if err := s.B.SubmitOrder(s.Ctx, o); err != nil {
		s.T.Fatalf("submit %s: %v", o.ClientID, err)
	}
	s.Wait(o.ClientID, broker.Accepted)
}

// Bracket builds a bracket on account A around entry e with a stop and
// target offset in ticks from Base; legs are id+".stop" and id+".target".
func Bracket(e broker.Order, stopOff, targetOff int) broker.Bracket {
	if e.Account == "" {
		e.Account = "A"
	}
	if e.TIF == 0 {
		e.TIF = broker.Day
	}
	exit := e.Side.Opposite()
	return broker.Bracket{
		Entry: e,
		Stop: broker.Order{ClientID: e.ClientID + ".stop", Account: e.Account, Side: exit, Qty: e.Qty,
			Type: market.StopOrder, StopPrice: Base + market.Price(stopOff), TIF: broker.GTC},
		Target: broker.Order{ClientID: e.ClientID + ".target", Account: e.Account, Side: exit, Qty: e.Qty,
			Type: market.LimitOrder, Price: Base + market.Price(targetOff), TIF: broker.GTC},
	}
}

func (s *Session) bracket(b broker.Bracket) {
	s.T.Helper()
	if err := s.B.SubmitBracket(s.Ctx, b); err != nil {
		s.T.Fatalf("bracket %s: %v", b.Entry.ClientID, err)
	}
	s.Wait(b.Entry.ClientID, broker.Accepted)
}

// Position returns the venue's position of account.
func (s *Session) Position(account string) broker.Position {
	s.T.Helper()
	ps, err := s.B.Positions(s.Ctx)
	if err != nil {
		s.T.Fatalf("positions: %v", err)
	}
	for _, p := range ps {
		if p.Account == account {
			return p
		}
	}
	return broker.Position{Account: account}
}

// Open returns the account's open orders by client id.
func (s *Session) Open(account string) map[string]broker.OrderState {
	s.T.Helper()
	os, err := s.B.OpenOrders(s.Ctx, account)
	if err != nil {
		s.T.Fatalf("open orders: %v", err)
	}
	m := make(map[string]broker.OrderState, len(os))
	for _, o := range os {
		m[o.ClientID] = o
	}
	return m
}

func (s *Session) wantPos(account string, qty int64) {
	s.T.Helper()
	if p := s.Position(account); p.Qty != qty {
		s.T.Fatalf("position %s = %d, want %d", account, p.Qty, qty)
	}
}

func (s *Session) wantNoOpen(account string) {
	s.T.Helper()
	if m := s.Open(account); len(m) != 0 {
		s.T.Fatalf("open orders on %s: %v, want none", account, keys(m))
	}
}

func sumFills(evs []broker.Event) (qty int64) {
	for _, e := range evs {
		qty += e.FillQty
	}
	return qty
}

func keys(m map[string]broker.OrderState) []string {
	var k []string
	for id, o := range m {
		k = append(k, id+"("+o.Status.String()+")")
	}
	return k
}

func fmtEv(e broker.Event) string {
	return fmt.Sprintf("#%d %s %s/%s %s fill=%d@%s leaves=%d slip=%d role=%s %q", e.Seq, e.Kind, e.Account, e.ClientID,
		e.Side, e.FillQty, e.FillPrice, e.LeavesQty, e.Slippage, e.Role, e.Reason)
}

func (s *Session) dump() string {
	var b strings.Builder
	for _, e := range s.events {
		b.WriteString("  " + fmtEv(e) + "\n")
	}
	return b.String()
}

// wantReject checks err wraps sentinel and a RejectedEv with a reason for
// clientID follows.
func (s *Session) wantReject(what string, err, sentinel error, clientID string) broker.Event {
	s.T.Helper()
	if !errors.Is(err, sentinel) {
		s.T.Fatalf("%s: error %v, want %v", what, err, sentinel)
	}
	ev := s.Wait(clientID, broker.RejectedEv)
	if ev.Reason == "" {
		s.T.Fatalf("%s: rejection without a reason: %s", what, fmtEv(ev))
	}
	return ev
}
