package drill

// check.go: the invariant checker. It reads the venue's own records — the
// sim's positions, open orders, the events it emitted and the requests it
// received — and, at the end of a round, the journal file (journal.Verify)
// and the desk's books. What it checks (DESIGN.md's risk invariants):
//
//   - coverage (6): after every settled step each open position has working
//     stop (or flattening market order) quantity for all of it at the
//     venue; a gap may last only until the desk's next settle (measured);
//   - lockout line (5), each account's own configured line: once the
//     venue's own equity for an account is below it, the venue accepts no
//     new entry for it and the account is flat within a few trades, and the
//     loss past the line is at most the slippage of the exits that closed
//     the position (asserted: see exitAllow);
//   - invariants 1–3 on every request the desk sent the in-process venue
//     (audit.go): entries bracketed, stops stop-market, GTC and only
//     tightened, no protective stop cancelled under an open position, no
//     add while not in profit or at a worse price than the average;
//   - no order sent twice (7): every client id reached the venue once;
//   - the journal verifies (7): journal.Verify finds no problem;
//   - ledger = venue (7): positions and realized PnL agree at round end;
//   - kills reach every account (8): after a desk kill every account is
//     flat with nothing working at the venue.
//
// The venue's own changes to its books are booked as the venue books
// them: a trade bust takes its fill back (contracts a busted exit had
// closed are open again, and the exits that close them again are measured
// from the busted fill's price), a correction moves a fill's price (what
// it moved against the account is the venue's, not an exit's slippage).
// A gap a bust opens while the venue could tell the desk nothing (no
// synchronised, speaking user socket) is timed from when it could.

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

// flatWithin is how many trades after a lockout-line breach (or a kill) an
// account must be flat at the venue: the liquidation's market order fills
// at the next trade.
const flatWithin = 5

// feeSideCents is half the default $1.20 round-turn fee: the checker's own
// fee estimate per contract filled.
const feeSideCents = 60

type acctCheck struct {
	id         string
	startCents int64
	lineCents  int64
	pct        decimal.Decimal // the account's configured lockout, % of start
	filled     int64           // contracts filled at the venue
	pos        int64           // the position as the venue's fills add up
	// exitAllow is what the exits of the current (or last closed) position
	// may cost past the line, in cents: for each closing contract, its
	// adverse slippage × tick value plus its fee. A contract's slippage is
	// the worst of: the venue's own for a stop fill (ticks past the stop
	// price); the distance past the protective stop that was working for
	// it at the last observation (a gap through the stop, whichever order
	// then closed it); for a liquidation's market fill, the distance from
	// the last trade before the venue accepted it; and, after the breach
	// was seen, the distance from the mark at the breach.
	exitAllow   int64
	stopSlots   []stopSlot              // the protective stops working at the last observation, nearest the market first
	breachMark  market.Price            // the venue's last trade when the breach was seen
	breachSlack int64                   // the breach margin at the breach (fee model, line rounding)
	liqRef      map[string]market.Price // liquidation order → the last trade before its acceptance
	breachAt    int                     // venue trade count at the breach (0: none)
	breachEv    int                     // venue event index at the breach
	reported    map[string]bool
	gapSince    time.Time
	gapSteps    int
	breachWall  time.Time // wall time of the breach (live)
	overshoot   int64     // worst cents past the line once flat
	// bustSlots are closing fills the venue busted (a trade bust reopens
	// the contracts they closed): the exits that close them again are
	// measured from the busted fill's price, as from a stop that did its
	// work there — what the market did between the fill and the bust is
	// the exchange's doing, not the exits'.
	bustSlots []stopSlot
	// venueAdj is what the venue's corrections of fills moved against the
	// account, in cents: a loss past the line no exit of the desk made.
	venueAdj int64
	lastPx   map[string]market.Price // each order's last fill price (a correction changes the last active fill)
	// bustWall: when (wall time, live only) the venue last busted a fill of
	// this account so that its exits were left larger than its position
	// (the venue does not resize the legs a busted fill armed).
	bustWall time.Time
	// bustGap: the open gap, if any, is one a bust opened behind the
	// desk's back; while the venue has no user socket that would tell the
	// desk (linked), its window restarts (see observeView).
	bustGap bool
}

// checker accumulates one round's violations.
type checker struct {
	accts     map[string]*acctCheck
	order     []string
	evSeen    int
	viol      []string
	worstGap  time.Duration
	worstOver int64
	checks    int
	auditSeen int
	// recent are the last trades observed (time, price), to find the
	// market a liquidation was accepted into.
	recent []market.Trade
	// now is the wall time of the observation being made (observeView).
	now time.Time
	// bustOpened counts exits that filled past flat inside the desk's
	// window after a bust left them larger than the position (not a
	// violation; see fill).
	bustOpened int
	// live: the desk runs in another process and sees the venue's trades a
	// little later, so windows are wall time (see live) rather than steps.
	live *liveBounds
}

// liveBounds are the windows a desk in another process gets: a coverage
// gap must close within gap, an account past its lockout line must be flat
// within flat, and an entry the venue accepts more than entry after the
// breach is a violation (before that, the desk may not have seen the
// breaching trade yet). Windows the desk spends dead (SIGKILLed, not yet
// restarted) do not count: they restart when the desk is back.
type liveBounds struct {
	gap, flat, entry time.Duration
}

// isExternal reports whether the venue says ev's order was placed beside
// the desk (on the broker's platform: venue.PlaceExternal); a view that
// cannot tell says no.
func isExternal(v view, ev broker.Event) bool {
	xv, ok := v.(interface {
		isExternal(account, clientID string) bool
	})
	return ok && xv.isExternal(ev.Account, ev.ClientID)
}

// view is what the checker reads of a venue: its own records.
type view interface {
	eventsSince(n int) []broker.Event
	lastTrade() (market.Trade, int)
	position(id string) (broker.Position, error)
	openOrders(id string) []broker.OrderState
}

func (v *venue) eventsSince(n int) []broker.Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]broker.Event(nil), v.events[n:]...)
}

func (v *venue) lastTrade() (market.Trade, int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last, v.trades
}

func (v *venue) position(id string) (broker.Position, error) { return v.Sim.Position(id) }

func (v *venue) openOrders(id string) []broker.OrderState {
	open, _ := v.Sim.OpenOrders(context.Background(), id)
	return open
}

// stopSlot is qty contracts of protective stop at px.
type stopSlot struct {
	px  market.Price
	qty int64
}

func newChecker(r *rig) *checker { return newCheckerLimits(r.opt.Accounts, r.opt.Limits) }

// newCheckerFor checks accounts on a desk with the default limits.
func newCheckerFor(specs []supervisor.AccountSpec) *checker {
	return newCheckerLimits(specs, limits.Config{})
}

// designDrawdownPct is DESIGN.md's default lockout (invariant 5), the
// checker's own: it does not ask the limits package, whose defaults are
// under test.
var designDrawdownPct = decimal.RequireFromString("1.5")

// newCheckerLimits checks accounts against each one's own configured
// lockout line: the account's drawdown_pct, else the desk's, else
// DESIGN's default.
func newCheckerLimits(specs []supervisor.AccountSpec, desk limits.Config) *checker {
	c := &checker{accts: map[string]*acctCheck{}}
	hund := decimal.NewFromInt(100)
	for _, s := range specs {
		pct := designDrawdownPct
		if !desk.DrawdownPct.IsZero() {
			pct = desk.DrawdownPct
		}
		if !s.Config.Limits.DrawdownPct.IsZero() {
			pct = s.Config.Limits.DrawdownPct
		}
		start := s.Config.StartEquity.Mul(hund).IntPart()
		line := decimal.NewFromInt(start).Mul(hund.Sub(pct)).Div(hund).Ceil().IntPart()
		c.accts[s.Config.ID] = &acctCheck{id: s.Config.ID, startCents: start, lineCents: line, pct: pct,
			reported: map[string]bool{}, liqRef: map[string]market.Price{}, lastPx: map[string]market.Price{}}
		c.order = append(c.order, s.Config.ID)
	}
	return c
}

// priceAt is the last observed trade at or before ns (the venue stamps an
// event with the time of the last trade it matched).
func (c *checker) priceAt(ns int64) (market.Price, bool) {
	for i := len(c.recent) - 1; i >= 0; i-- {
		if c.recent[i].Time <= ns {
			return c.recent[i].Price, true
		}
	}
	return 0, false
}

// fill books one venue fill into the account's running position and its
// exits' allowance past the line.
func (c *checker) fill(a *acctCheck, ev broker.Event) {
	a.filled += ev.FillQty
	s := ev.Side.Sign()
	if a.pos == 0 && a.breachAt == 0 {
		// A new position: its own exits. Not after the breach: what the
		// exits that closed the breaching position earned stays (a new
		// position then is a trader's, opened beside the desk).
		a.exitAllow = 0
	}
	closing := int64(0)
	if a.pos != 0 && sign(a.pos) != s {
		closing = min(ev.FillQty, abs(a.pos))
	}
	// Only an entry opens or adds: a stop, target, repair or liquidation
	// that fills past flat leaves a position nobody asked for, with no
	// bracket (a protective order that outlived its position).
	if ev.FillQty > closing && ev.Role != broker.EntryLeg && c.live != nil && !a.bustWall.IsZero() && c.now.Sub(a.bustWall) <= c.live.gap {
		// A leg the venue left larger than the position a bust cut, filled
		// before the desk could cancel it: the desk has the same window as
		// for a gap (it cancels the surplus at once; a desk in another
		// process hears of the bust a little later). The position it opened
		// is then held to the coverage and line checks like any other.
		c.bustOpened++
	} else if ev.FillQty > closing && ev.Role != broker.EntryLeg {
		c.violate(a, "exit-opened", "%s: %s (%s) filled %d at %s with the account at %d: an exit order opened a position (invariants 1 and 6)",
			a.id, ev.ClientID, ev.Role, ev.FillQty, ev.FillPrice, a.pos)
	}
	a.pos += s * ev.FillQty
	a.lastPx[ev.ClientID] = ev.FillPrice
	if closing == 0 {
		return
	}
	base := max(0, ev.Slippage) // a stop's ticks past its stop price
	// A closing buy is adverse above the reference, a closing sell below.
	from := func(ref market.Price) int64 { return int64(ev.FillPrice-ref) * s }
	if ref, ok := a.liqRef[ev.ClientID]; ok {
		base = max(base, from(ref))
	}
	if a.breachAt > 0 && a.breachMark > 0 {
		base = max(base, from(a.breachMark))
	}
	for closing > 0 && len(a.bustSlots) > 0 {
		sl := &a.bustSlots[0]
		n := min(closing, sl.qty)
		a.exitAllow += n * (max(base, from(sl.px))*market.TickCents + feeSideCents)
		closing -= n
		if sl.qty -= n; sl.qty == 0 {
			a.bustSlots = a.bustSlots[1:]
		}
	}
	if a.pos == 0 {
		a.bustSlots = nil
	}
	for closing > 0 && len(a.stopSlots) > 0 {
		sl := &a.stopSlots[0]
		n := min(closing, sl.qty)
		a.exitAllow += n * (max(base, from(sl.px))*market.TickCents + feeSideCents)
		closing -= n
		if sl.qty -= n; sl.qty == 0 {
			a.stopSlots = a.stopSlots[1:]
		}
	}
	a.exitAllow += closing * (base*market.TickCents + feeSideCents)
}

// adjust books a trade bust or correction of the venue's (venue.Bust,
// venue.Correct: execType TradeCancel / TradeCorrect). A bust takes the
// fill back: the position moves back by it, and contracts it had closed
// are open again (bustSlots); one it had opened are not, so an exit that
// then fills past flat still opened a position. A correction moves the
// fill's price: what it moved against the account is the venue's
// (venueAdj).
func (c *checker) adjust(a *acctCheck, ev broker.Event) {
	s := ev.Side.Sign()
	switch ev.Kind {
	case broker.BustedEv:
		a.filled = max(0, a.filled-ev.FillQty)
		before := a.pos
		a.pos -= s * ev.FillQty
		if a.pos != before {
			a.bustWall = c.now
		}
		// The contracts the busted fill had closed: those the position is
		// now farther from flat by.
		if reopened := min(ev.FillQty, max(0, abs(a.pos)-abs(before))); reopened > 0 {
			a.bustSlots = append(a.bustSlots, stopSlot{ev.FillPrice, reopened})
			a.bustGap = true
		}
		if a.pos == 0 {
			a.bustSlots = nil
		}
	case broker.CorrectedEv:
		if old, ok := a.lastPx[ev.ClientID]; ok {
			// A buy corrected higher, a sell lower, costs the account.
			if against := int64(ev.FillPrice-old) * s; against > 0 {
				a.venueAdj += against * ev.FillQty * market.TickCents
			}
		}
		a.lastPx[ev.ClientID] = ev.FillPrice
	}
}

func (c *checker) violate(a *acctCheck, key, format string, args ...any) {
	if a != nil {
		if a.reported[key] {
			return
		}
		a.reported[key] = true
	}
	c.viol = append(c.viol, fmt.Sprintf(format, args...))
}

// observe checks coverage and the lockout line after a settled step.
func (c *checker) observe(r *rig) { c.observeView(r.v) }

// observeView checks coverage and the lockout line on the venue's records
// as they are now.
func (c *checker) observeView(v view) {
	c.checks++
	evs := v.eventsSince(c.evSeen)
	base := c.evSeen
	c.evSeen += len(evs)
	last, trades := v.lastTrade()
	now := time.Now()
	c.now = now
	// Whether the venue could tell the desk what it does now (a live
	// venue's user socket; an in-process one always can).
	linked := true
	if lv, ok := v.(interface{ userLinked() bool }); ok {
		linked = lv.userLinked()
	}
	if last.Price > 0 && (len(c.recent) == 0 || c.recent[len(c.recent)-1] != last) {
		c.recent = append(c.recent, last)
		if len(c.recent) > 512 {
			c.recent = append(c.recent[:0], c.recent[len(c.recent)-256:]...)
		}
	}
	if au, ok := v.(interface{ auditFindings(int) []string }); ok {
		for _, f := range au.auditFindings(c.auditSeen) {
			c.auditSeen++
			c.violate(nil, "", "%s", f)
		}
	}
	for i, ev := range evs {
		a := c.accts[ev.Account]
		if a == nil {
			continue
		}
		if ev.Kind == broker.Accepted && strings.HasPrefix(ev.ClientID, "liquidate.") {
			if px, ok := c.priceAt(ev.Time); ok {
				a.liqRef[ev.ClientID] = px
			}
		}
		if ev.Kind == broker.FilledEv || ev.Kind == broker.PartiallyFilled {
			opens := ev.Role == broker.EntryLeg && (a.pos == 0 || sign(a.pos) == ev.Side.Sign())
			if opens && a.breachAt > 0 && isExternal(v, ev) {
				// A trader's entry on the broker's platform after the
				// breach: the desk never saw it before the venue filled it.
				// Its position is the desk's to flatten at once, timed from
				// its fill, and what its exits may cost is measured from
				// its own price (the mark it opened at), its entry's fee
				// the venue's.
				a.breachAt, a.breachWall, a.breachMark = trades, now, ev.FillPrice
				a.venueAdj += ev.FillQty * feeSideCents
			}
			c.fill(a, ev)
		}
		if ev.Kind == broker.BustedEv || ev.Kind == broker.CorrectedEv {
			c.adjust(a, ev)
		}
		if ev.Kind == broker.Accepted && ev.Role == broker.EntryLeg && a.breachAt > 0 && base+i > a.breachEv &&
			(c.live == nil || now.Sub(a.breachWall) > c.live.entry) && !isExternal(v, ev) {
			c.violate(a, "entry-after-line", "%s: venue accepted entry %s after the account crossed its lockout line", a.id, ev.ClientID)
		}
	}
	for _, id := range c.order {
		a := c.accts[id]
		pos, err := v.position(id)
		if err != nil {
			continue
		}
		open := v.openOrders(id)
		// Coverage.
		if pos.Qty != 0 {
			var cover int64
			for _, o := range open {
				if o.Side.Sign() == -sign(pos.Qty) && (o.Status == broker.Working || o.Status == broker.Triggered) &&
					(o.Type == market.StopOrder || o.Type == market.MarketOrder) {
					cover += o.Qty - o.FilledQty
				}
			}
			var slots []stopSlot
			flattening := false
			for _, o := range open {
				if o.Side.Sign() != -sign(pos.Qty) || (o.Status != broker.Working && o.Status != broker.Triggered) || o.Qty <= o.FilledQty {
					continue
				}
				switch o.Type {
				case market.StopOrder:
					slots = append(slots, stopSlot{o.StopPrice, o.Qty - o.FilledQty})
				case market.MarketOrder:
					flattening = true
				}
			}
			// The stops a liquidation cancelled still bound what its market
			// order may cost: keep them until the position is closed.
			if len(slots) > 0 || !flattening {
				// Nearest the market first: a long's highest sell stop fires first.
				sort.Slice(slots, func(i, j int) bool { return (slots[i].px-slots[j].px)*market.Price(sign(pos.Qty)) > 0 })
				a.stopSlots = slots
			}
			if cover < abs(pos.Qty) {
				if a.gapSince.IsZero() || a.bustGap && !linked {
					// A gap a bust opened while the desk could not hear of
					// it (its link down, silent or not yet resynchronised:
					// the venue pushes to no one) is timed from when it can.
					a.gapSince, a.gapSteps = now, 0
				}
				a.gapSteps++
				if (c.live == nil && a.gapSteps > 1) || (c.live != nil && now.Sub(a.gapSince) > c.live.gap) {
					c.violate(a, "gap", "%s: position %d with stop cover %d at the venue for %d settled steps (%s)", id, pos.Qty, cover, a.gapSteps, now.Sub(a.gapSince).Round(time.Millisecond))
				}
			} else {
				c.closeGap(a)
			}
		} else {
			a.stopSlots = nil
			c.closeGap(a)
		}
		// Lockout line, from the venue's own numbers.
		eq := a.startCents + pos.Realized*market.TickCents - a.filled*feeSideCents
		if pos.Qty != 0 && last.Price > 0 {
			eq += (pos.Qty*int64(last.Price) - pos.CostTick) * market.TickCents
		}
		margin := abs(pos.Qty)*feeSideCents + market.TickCents
		if a.breachAt == 0 && eq < a.lineCents-margin {
			a.breachAt, a.breachEv, a.breachWall = trades, c.evSeen, now
			a.breachMark, a.breachSlack = last.Price, margin
		}
		if a.breachAt > 0 {
			late := trades > a.breachAt+flatWithin
			if c.live != nil {
				late = now.Sub(a.breachWall) > c.live.flat
			}
			if pos.Qty != 0 && late {
				c.violate(a, "not-flat", "%s: still %d contracts at the venue %d trades (%s) after crossing its lockout line", id, pos.Qty, trades-a.breachAt, now.Sub(a.breachWall).Round(time.Millisecond))
			}
			if pos.Qty == 0 && len(open) == 0 {
				over := a.lineCents - eq
				if over > a.overshoot {
					a.overshoot = over
					if over > c.worstOver {
						c.worstOver = over
					}
				}
				// Promise 5: past the line by no more than the slippage of
				// the exits that closed the position.
				if allow := a.exitAllow + a.breachSlack + a.venueAdj; over > allow {
					c.violate(a, "overshoot", "%s: %s past its %s%% lockout line once flat, more than the %s its closing exits' slippage and fees allow (promise 5)",
						id, cents(over), a.pct, cents(allow))
				}
			}
		}
	}
}

// deskBack restarts the live windows of open gaps and unflattened
// breaches: a dead desk could not act on them.
func (c *checker) deskBack() {
	now := time.Now()
	for _, a := range c.accts {
		if !a.gapSince.IsZero() {
			a.gapSince = now
		}
		if a.breachAt > 0 {
			a.breachWall = now
		}
	}
}

func (c *checker) closeGap(a *acctCheck) {
	if !a.gapSince.IsZero() {
		if w := time.Since(a.gapSince); w > c.worstGap {
			c.worstGap = w
		}
	}
	a.gapSince, a.gapSteps = time.Time{}, 0
	a.bustGap = false
}

// killReached checks that a desk kill reached every account: all flat with
// nothing working at the venue.
func (c *checker) killReached(r *rig, what string) { c.killReachedView(r.v, what) }

func (c *checker) killReachedView(v view, what string) {
	for _, id := range c.order {
		pos, _ := v.position(id)
		open := v.openOrders(id)
		if pos.Qty != 0 || len(open) > 0 {
			c.violate(nil, "", "%s: kill did not reach %s: position %d, %d orders working at the venue", what, id, pos.Qty, len(open))
		}
	}
}

// finish runs the end-of-round checks: no client id sent twice, the
// desk's books against the venue's, and the journal file. The desk must be
// attached and settled; finish closes the journal.
func (c *checker) finish(r *rig) {
	r.v.mu.Lock()
	var dups []string
	for id, n := range r.v.submits {
		if n > 1 {
			dups = append(dups, fmt.Sprintf("%s×%d", id, n))
		}
	}
	r.v.mu.Unlock()
	sort.Strings(dups)
	for _, d := range dups {
		c.violate(nil, "", "client id sent to the venue more than once: %s", d)
	}
	if r.d != nil {
		st := r.d.Status(context.Background())
		for _, as := range st.Accounts {
			vp, err := r.v.Sim.Position(as.ID)
			if err != nil {
				continue
			}
			if as.Position != vp.Qty {
				c.violate(nil, "", "%s: ledger position %d, venue %d", as.ID, as.Position, vp.Qty)
			}
			want := decimal.New(vp.Realized*market.TickCents, -2).StringFixed(2)
			if as.Realized != want {
				c.violate(nil, "", "%s: ledger realized %s, venue %s", as.ID, as.Realized, want)
			}
		}
		if r.j != nil {
			_ = r.j.Close()
			r.j = nil
		}
	}
	rep, err := journal.Verify(r.path, journal.VerifyOptions{Timeout: 5 * time.Second, FillOwner: venueOwned, Checkers: []journal.Checker{ledgercheck.New()}})
	switch {
	case err != nil:
		c.violate(nil, "", "journal verify: %v", err)
	case !rep.OK:
		c.violate(nil, "", "journal verify: %s", strings.Join(rep.Problems, "; "))
	}
}

// venueOwned accepts fills of orders the venue itself created (the sim's
// liquidation orders) and of the desk's stop repairs.
func venueOwned(ev broker.Event) bool {
	return strings.HasPrefix(ev.ClientID, "liquidate.") || strings.Contains(ev.ClientID, ".repair.")
}

func cents(v int64) string { return "$" + decimal.New(v, -2).StringFixed(2) }

func sign(v int64) int64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// venueID stamps an event with a stable venue id, as a real venue's
// execution-report id (the sim's synchronous mode has none).
func venueID(ev *broker.Event) {
	if ev.VenueID == "" {
		ev.VenueID = "sim-" + strconv.FormatUint(ev.Seq, 10)
	}
}
