package drill

// allin.go: once a round, a desk kill with every account holding a
// position at the venue at the moment of the kill. A kill proves something
// only for the accounts it had to flatten: a kill that skipped the last
// account passed 90 drill kills because most accounts were flat most of the
// time. From trade `at` on, as soon as the desk is running, every account
// that is flat gets a market entry with a bracket; the kill goes out on the
// first settled step at which every one of them holds a position; ten
// trades later every account must be flat with nothing working, and the
// desk is re-armed. Right after the kill every account also sends an exit,
// which the halt must let through (invariant 8).
//
// An account the desk's own risk state excludes — locked out, faulted, or
// refused for its own limits (the allowance for one contract at a 12-tick
// stop, reduce-only, its trailing or weekly line, its trade or order cap,
// a loss-streak cooldown) — is left out and named; every other account
// must be in. When every account is left out the kill is tried again 500
// trades later.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// allInWait is how many trades the accounts get to be filled before the
// round reports that the all-in kill could not be set up.
const allInWait = 60

// allInRetry is how many trades later the all-in kill is tried again when
// every account was left out.
const allInRetry = 500

// allInStop is the all-in entries' stop distance (ticks): far enough that a
// position outlives a worker-faults batch of 25 trades, near enough that
// the tightest account can take one contract.
const allInStop = 12

type allIn struct {
	at       int // first trade index at which to begin
	phase    int // 0 waiting, 1 opening positions, 2 killed, 3 done
	since    int // trades into the phase
	excluded map[string]string
	refused  map[string]string // the gate's last answer to an account's all-in entry
	held     int               // accounts in a position at the kill
}

// step advances the all-in kill after trade i (play calls it after every
// settled step).
func (a *allIn) step(r *rig, c *checker, i int, t market.Trade) error {
	if a == nil || a.phase == 3 || i < a.at || r.d == nil {
		return nil
	}
	ctx := r.ctx
	a.since++
	switch a.phase {
	case 0:
		if r.d.Status(ctx).State != "running" {
			return nil
		}
		a.phase, a.since, a.excluded, a.refused = 1, 0, map[string]string{}, map[string]string{}
		a.open(r, t)
	case 1:
		if r.d.Status(ctx).State != "running" {
			a.phase = 0 // something else halted the desk: start over later
			return nil
		}
		missing := a.missing(r)
		if len(a.excluded) == len(r.ids) {
			// Every account is out of new risk by its own rules: try again
			// later in the round.
			a.phase, a.at = 0, i+allInRetry
			return nil
		}
		if len(missing) == 0 {
			a.held = len(r.ids) - len(a.excluded)
			if _, err := r.kill("", "drill_all_in"); err != nil {
				return fmt.Errorf("all-in kill: %w", err)
			}
			// The halt the kill put in force must not block what reduces
			// risk (invariant 8): an exit on every account goes out.
			for _, id := range r.ids {
				res := r.d.HandleIntent(ctx, intent.Intent{Kind: intent.Exit, Account: id, Strategy: "drill", Reason: "drill exit while halted"})
				if !res.Sent && riskOnly[res.Decision.Reason] {
					c.violate(nil, "", "all-in kill: %s's exit while the desk halts was refused: %s (invariant 8)", id, res.Decision)
				}
			}
			a.phase, a.since = 2, 0
			return nil
		}
		if a.since > allInWait {
			var why []string
			for _, id := range missing {
				if r := a.refused[id]; r != "" {
					why = append(why, id+": "+r)
				}
			}
			c.violate(nil, "", "all-in kill: %s still not in a position %d trades after their entries (excluded: %s; refused: %s)",
				strings.Join(missing, ","), a.since, a.excludedText(), strings.Join(why, "; "))
			a.phase = 3
			return nil
		}
		if a.since%10 == 0 {
			a.open(r, t) // refused meanwhile (rate, a working entry): again
		}
	case 2:
		if a.since < tailTrades {
			return nil
		}
		c.killReached(r, fmt.Sprintf("all-in kill (%d accounts in a position)", a.held))
		if err := r.d.Rearm(ctx, "drill", "after the all-in kill"); err != nil {
			return fmt.Errorf("all-in kill: re-arm: %w", err)
		}
		a.phase = 3
	}
	return nil
}

// done reports whether the round had its all-in kill.
func (a *allIn) done() bool { return a == nil || (a.phase >= 2 && a.held > 0) }

// open sends a bracketed market entry for every flat account, after
// cancelling its working entries (the gate allows one at a time).
func (a *allIn) open(r *rig, t market.Trade) {
	ctx := r.ctx
	for _, id := range r.ids {
		if _, ex := a.excluded[id]; ex {
			continue
		}
		if p, _ := r.v.Sim.Position(id); p.Qty != 0 {
			continue
		}
		st := ""
		for _, as := range r.d.Status(ctx).Accounts {
			if as.ID == id {
				st = as.State
			}
		}
		if st == "locked_out" || st == "faulted" || st == "disabled" {
			a.excluded[id] = st
			continue
		}
		open, _ := r.v.Sim.OpenOrders(ctx, id)
		for _, o := range open {
			if o.Role == broker.EntryLeg && !o.Status.Done() {
				r.d.HandleIntent(ctx, intent.Intent{Kind: intent.Cancel, Account: id, Strategy: "drill", Ref: o.ClientID,
					Reason: "drill all-in: one entry at a time"})
			}
		}
		res := r.d.HandleIntent(ctx, intent.Intent{Kind: intent.Enter, Account: id, Strategy: "drill", Side: market.Buy, Qty: 1,
			EntryType: market.MarketOrder, Stop: t.Price - allInStop, Target: t.Price + 40, Reason: "drill all-in"})
		if !res.Sent {
			a.refused[id] = res.Decision.String()
			if res.Err != nil {
				a.refused[id] = res.Err.Error()
			}
			if accountRisk[res.Decision.Reason] {
				a.excluded[id] = string(res.Decision.Reason)
			}
		}
	}
}

// accountRisk are the gate's answers that say the account itself may take
// no new risk now (its lockout, ladder, lines, caps or cooldown): it is left
// out of the all-in kill rather than waited for.
var accountRisk = map[limits.Reason]bool{limits.LossBound: true, limits.LockedOut: true, limits.ReduceOnly: true,
	limits.TrailingDrawdown: true, limits.WeeklyLoss: true, limits.LossStreakCooldown: true, limits.DailyTradeLimit: true,
	limits.DailyOrderLimit: true, limits.ScalingPlan: true, limits.DeskLockedOut: true}

// missing lists the included accounts without a position at the venue.
func (a *allIn) missing(r *rig) []string {
	var out []string
	for _, id := range r.ids {
		if _, ex := a.excluded[id]; ex {
			continue
		}
		if p, _ := r.v.Sim.Position(id); p.Qty == 0 {
			out = append(out, id)
		}
	}
	return out
}

func (a *allIn) excludedText() string {
	if len(a.excluded) == 0 {
		return "none"
	}
	var out []string
	for _, id := range sortedKeys(a.excluded) {
		out = append(out, id+" "+a.excluded[id])
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// checkAllIn is the end-of-round check that the round had its all-in kill.
func checkAllIn(r *rig, c *checker) {
	if r.allIn != nil && !r.allIn.done() {
		c.violate(nil, "", "no kill this round had every account in a position (all-in phase %d; excluded: %s)",
			r.allIn.phase, r.allIn.excludedText())
	}
}
