package drill

// check.go: the invariant checker. It reads the venue's own records — the
// sim's positions, open orders, the events it emitted and the requests it
// received — and, at the end of a round, the journal file (journal.Verify)
// and the desk's books. What it checks (DESIGN.md's risk invariants):
//
//   - coverage (6): after every settled step each open position has working
//     stop (or flattening market order) quantity for all of it at the
//     venue; a gap may last only until the desk's next settle (measured);
//   - lockout line (5): once the venue's own equity for an account is below
//     its lockout line, the venue accepts no new entry for it and the
//     account is flat within a few trades (the loss past the line is then
//     only the exit's slippage, which is reported);
//   - no order sent twice (7): every client id reached the venue once;
//   - the journal verifies (7): journal.Verify finds no problem;
//   - ledger = venue (7): positions and realized PnL agree at round end;
//   - kills reach every account (8): after a desk kill every account is
//     flat with nothing working at the venue.

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
	"github.com/deskguard/deskguard/market"
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
	filled     int64 // contracts filled at the venue
	breachAt   int   // venue trade count at the breach (0: none)
	breachEv   int   // venue event index at the breach
	reported   map[string]bool
	gapSince   time.Time
	gapSteps   int
	overshoot  int64 // worst cents past the line once flat
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
}

func newChecker(r *rig) *checker {
	c := &checker{accts: map[string]*acctCheck{}}
	pct := decimal.RequireFromString("1.5") // the default drawdown limit (limits.Config)
	for _, s := range r.opt.Accounts {
		start := s.Config.StartEquity.Mul(decimal.NewFromInt(100)).IntPart()
		line := decimal.NewFromInt(start).Mul(decimal.NewFromInt(100).Sub(pct)).Div(decimal.NewFromInt(100)).Ceil().IntPart()
		c.accts[s.Config.ID] = &acctCheck{id: s.Config.ID, startCents: start, lineCents: line, reported: map[string]bool{}}
		c.order = append(c.order, s.Config.ID)
	}
	return c
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

// observe checks coverage and the lockout line after a settled step. live
// says whether a desk was attached during the step (a gap while the desk
// is down is the restart's to repair).
func (c *checker) observe(r *rig) {
	c.checks++
	v := r.v
	v.mu.Lock()
	evs := v.events[c.evSeen:]
	base := c.evSeen
	c.evSeen = len(v.events)
	last, trades := v.last, v.trades
	v.mu.Unlock()
	for i, ev := range evs {
		a := c.accts[ev.Account]
		if a == nil {
			continue
		}
		if ev.Kind == broker.FilledEv || ev.Kind == broker.PartiallyFilled {
			a.filled += ev.FillQty
		}
		if ev.Kind == broker.Accepted && ev.Role == broker.EntryLeg && a.breachAt > 0 && base+i > a.breachEv {
			c.violate(a, "entry-after-line", "%s: venue accepted entry %s after the account crossed its lockout line", a.id, ev.ClientID)
		}
	}
	ctx := context.Background()
	for _, id := range c.order {
		a := c.accts[id]
		pos, err := v.Sim.Position(id)
		if err != nil {
			continue
		}
		open, _ := v.Sim.OpenOrders(ctx, id)
		// Coverage.
		if pos.Qty != 0 {
			var cover int64
			for _, o := range open {
				if o.Side.Sign() == -sign(pos.Qty) && (o.Status == broker.Working || o.Status == broker.Triggered) &&
					(o.Type == market.StopOrder || o.Type == market.MarketOrder) {
					cover += o.Qty - o.FilledQty
				}
			}
			if cover < abs(pos.Qty) {
				if a.gapSince.IsZero() {
					a.gapSince = time.Now()
				}
				a.gapSteps++
				if a.gapSteps > 1 {
					c.violate(a, "gap", "%s: position %d with stop cover %d at the venue for %d settled steps", id, pos.Qty, cover, a.gapSteps)
				}
			} else {
				c.closeGap(a)
			}
		} else {
			c.closeGap(a)
		}
		// Lockout line, from the venue's own numbers.
		eq := a.startCents + pos.Realized*market.TickCents - a.filled*feeSideCents
		if pos.Qty != 0 && last.Price > 0 {
			eq += (pos.Qty*int64(last.Price) - pos.CostTick) * market.TickCents
		}
		margin := abs(pos.Qty)*feeSideCents + market.TickCents
		if a.breachAt == 0 && eq < a.lineCents-margin {
			a.breachAt, a.breachEv = trades, c.evSeen
		}
		if a.breachAt > 0 {
			if pos.Qty != 0 && trades > a.breachAt+flatWithin {
				c.violate(a, "not-flat", "%s: still %d contracts at the venue %d trades after crossing its lockout line", id, pos.Qty, trades-a.breachAt)
			}
			if pos.Qty == 0 && len(open) == 0 {
				if over := a.lineCents - eq; over > a.overshoot {
					a.overshoot = over
					if over > c.worstOver {
						c.worstOver = over
					}
				}
			}
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
}

// killReached checks that a desk kill reached every account: all flat with
// nothing working at the venue.
func (c *checker) killReached(r *rig, what string) {
	ctx := context.Background()
	for _, id := range c.order {
		pos, _ := r.v.Sim.Position(id)
		open, _ := r.v.Sim.OpenOrders(ctx, id)
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
	rep, err := journal.Verify(r.path, journal.VerifyOptions{Timeout: 5 * time.Second, FillOwner: venueOwned})
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
