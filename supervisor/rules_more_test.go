package supervisor

// rules_more_test.go: more of the risk rules wired into the desk (as
// rules_test.go): the scaling tier, cooldown, the tick path's allocations,
// a crash before a rule's record, the firm's reduce-only.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// TestRulesScalingTier: max position follows the tier; a tier earned at
// the session's end comes back after a restart; a unit is lost (and
// journaled) as soon as equity falls below its tier.
func TestRulesScalingTier(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{ScalingUnit: 1,
		ScalingTiers: []decimal.Decimal{decimal.NewFromInt(10)}}), bigSpec()}}
	r := newRig(t, o)
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 2, 5000, 4996, 5003), limits.ScalingPlan)
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4996, 5003), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))
	r.step(ctx, dayAt(12, 10, 0, 3), pts(5003.25)) // the target: +12 ticks, net $13.80
	r.step(ctx, dayAt(12, 10, 0, 4), pts(5003.25))
	if r.venuePos("L1") != 0 {
		t.Fatalf("venue position %d after the target", r.venuePos("L1"))
	}
	if u := r.risk("L1"); u.TierUnits != 1 {
		t.Fatalf("tier %d before the session's end (units are earned at the close)", u.TierUnits)
	}
	r.d.sessionReset(ctx, time.Unix(0, dayAt(12, 18, 0, 0)))
	r2, _ := r.restartOn(ctx, o, dayAt(13, 9, 59, 0))
	r2.step(ctx, dayAt(13, 10, 0, 1), pts(5000.25))
	if u := r2.risk("L1"); u.TierUnits != 2 || u.TierMaxPos != 2 {
		t.Fatalf("after the restart: %+v, want 2 units", u)
	}
	r2.send(ctx, enterAt("L1", dayAt(13, 10, 0, 1), market.Buy, 2, 5000, 4996, 5003), limits.OK)
	r2.step(ctx, dayAt(13, 10, 0, 2), pts(5000))
	r2.step(ctx, dayAt(13, 10, 0, 3), pts(4999.5)) // equity 10013.80 − 1.20 − 5.00 < 10010: a unit lost
	if u := r2.risk("L1"); u.TierUnits != 1 {
		t.Fatalf("tier %d below the tier's profit, want 1", u.TierUnits)
	}
	if n := countRisk(r2.riskEvents("L1"), riskTier); n != 1 {
		t.Fatalf("%d tier records", n)
	}
}

// TestRulesCooldownTradesAndReference: the loss-streak cooldown, the
// trades-per-session cap and the reference price reach the gate through
// the ledger; the cooldown comes back after a restart (from the fills).
func TestRulesCooldownTradesAndReference(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{LossStreak: 2, LossCooldown: 30 * time.Minute,
		DailyTradeLimit: 3}), bigSpec()}}
	r := newRig(t, o)
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 0), market.Buy, 1, 5000, 4998, 5005), limits.NoReferencePrice)
	lose := func(r *rig, sec int) {
		r.step(ctx, dayAt(12, 10, 0, sec), pts(5000.25))
		r.send(ctx, enterAt("L1", dayAt(12, 10, 0, sec), market.Buy, 1, 5000, 4998, 5005), limits.OK)
		r.step(ctx, dayAt(12, 10, 0, sec+1), pts(5000))
		r.step(ctx, dayAt(12, 10, 0, sec+2), pts(4998))
		r.step(ctx, dayAt(12, 10, 0, sec+3), pts(4998))
		if p := r.venuePos("L1"); p != 0 {
			t.Fatalf("venue position %d after the stop", p)
		}
	}
	lose(r, 1)
	lose(r, 10)
	r.step(ctx, dayAt(12, 10, 0, 20), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 20), market.Buy, 1, 5000, 4998, 5005), limits.LossStreakCooldown)
	if u := r.risk("L1"); u.CooldownUntil != time.Unix(0, dayAt(12, 10, 30, 12)).UTC().Format(time.RFC3339) || u.TradesToday != 2 {
		t.Fatalf("usage %+v", u)
	}
	r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 10, 0))
	r2.step(ctx, dayAt(12, 10, 10, 1), pts(5000.25))
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 10, 1), market.Buy, 1, 5000, 4998, 5005), limits.LossStreakCooldown)
	r2.step(ctx, dayAt(12, 10, 30, 12), pts(5000.25))
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 30, 12), market.Buy, 1, 5000, 4998, 5005), limits.OK)
	r2.step(ctx, dayAt(12, 10, 30, 13), pts(5000))
	r2.send(ctx, exitAt("L1", dayAt(12, 10, 30, 13)), limits.OK)
	r2.step(ctx, dayAt(12, 10, 30, 14), pts(5001)) // a winner: the streak ends, the third trade closes
	r2.step(ctx, dayAt(12, 10, 30, 15), pts(5000.25))
	r2.send(ctx, enterAt("L1", dayAt(12, 10, 30, 15), market.Buy, 1, 5000, 4998, 5005), limits.DailyTradeLimit)
}

// TestTickPathAllocFree: with every rule on (ladder, trailing, weekly,
// tier, a calendar, the desk ladder), a batch of trades that trips nothing
// allocates nothing on the tick path.
func TestTickPathAllocFree(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	cal := limits.NewCalendar([]limits.Release{{TimeNs: dayAt(12, 14, 0, 0), Name: "FOMC"}})
	lim := limits.Config{TrailingMode: limits.TrailingIntraday, TrailingDrawdown: decimal.NewFromInt(500),
		WeeklyLossPct: decimal.NewFromInt(2), ScalingTiers: []decimal.Decimal{decimal.NewFromInt(1000)}, BlackoutFlatten: time.Minute}
	r := newRig(t, rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 50000, lim), ruleSpec("L2", 50000, lim), ruleSpec("L3", 50000, lim)},
		Calendar: cal, DeskWarnPct: 50, DeskReduceOnlyPct: 60})
	r.start(ctx, dayAt(12, 10, 0, 0))
	r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
	r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4995, 5010), limits.OK)
	r.step(ctx, dayAt(12, 10, 0, 2), pts(5000)) // L1 holds a position: its marks move its equity
	ts := make([]market.Trade, 8)
	tm := dayAt(12, 10, 0, 3)
	n := testing.AllocsPerRun(200, func() {
		for i := range ts {
			tm += int64(time.Millisecond)
			ts[i] = market.Trade{Time: tm, Price: pts(5000) + market.Price(i%3), Size: 1, Aggressor: market.Buy}
		}
		r.d.OnTrades(ctx, ts)
	})
	if n != 0 {
		t.Fatalf("OnTrades allocates %.1f times per batch with every rule on, want 0", n)
	}
}

// dropRisk is a journal that loses the risk records of one event: the
// desk crashed after the act and before its rules' record was durable.
type dropRisk struct {
	Journal
	event string
}

func (j dropRisk) Append(ctx context.Context, r journal.Record) (uint64, error) {
	if r.Kind == journal.KindRisk {
		if rk, err := r.Risk(); err == nil && rk.Event == j.event {
			return 0, nil
		}
	}
	return j.Journal.Append(ctx, r)
}

// TestRulesCrashBeforeTheRulesRecord: a trailing breach whose lockout
// record landed but not the rules' record comes back breached (the
// lockout record says which line); a blackout flatten whose record never
// landed is sent again after a restart inside its window.
func TestRulesCrashBeforeTheRulesRecord(t *testing.T) {
	t.Run("trailing", func(t *testing.T) {
		ctx := ctxT(t, 30*time.Second)
		o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{TrailingMode: limits.TrailingIntraday,
			TrailingDrawdown: decimal.NewFromInt(20)}), bigSpec()},
			Journal: func(j Journal) Journal { return dropRisk{j, riskTrailing} }}
		r := newRig(t, o)
		r.start(ctx, dayAt(12, 10, 0, 0))
		r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
		r.send(ctx, enterAt("L1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4997, 5010), limits.OK)
		r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))
		r.step(ctx, dayAt(12, 10, 0, 3), pts(5005))
		r.step(ctx, dayAt(12, 10, 0, 4), pts(5001)) // at the line
		r.step(ctx, dayAt(12, 10, 0, 5), pts(5001))
		if st := r.state("L1"); st != AcctLockedOut || countRisk(r.riskEvents("L1"), riskTrailing) != 0 {
			t.Fatalf("state %s, %d trailing records", st, countRisk(r.riskEvents("L1"), riskTrailing))
		}
		r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 1, 0))
		r2.step(ctx, dayAt(12, 10, 1, 1), pts(5001))
		if st, u := r2.state("L1"), r2.risk("L1"); st != AcctLockedOut || !u.TrailingBroken {
			t.Fatalf("after the restart: %s %+v, want locked_out, the trailing line breached", st, u)
		}
		if err := r2.d.Unlock(ctx, "L1", "risk", "try"); !errors.Is(err, deskapi.ErrNotAllowed) {
			t.Fatalf("unlock: %v, want ErrNotAllowed", err)
		}
	})
	t.Run("blackout", func(t *testing.T) {
		ctx := ctxT(t, 30*time.Second)
		cal := limits.NewCalendar([]limits.Release{{TimeNs: dayAt(12, 10, 30, 0), Name: "CPI"}})
		o := rigOpt{Accounts: []AccountSpec{ruleSpec("L1", 10000, limits.Config{BlackoutFlatten: 2 * time.Minute}), bigSpec()},
			Calendar: cal, Journal: func(j Journal) Journal { return dropRisk{j, riskBlackout} }}
		r := newRig(t, o)
		r.start(ctx, dayAt(12, 10, 20, 0))
		r.step(ctx, dayAt(12, 10, 20, 1), pts(5000.25))
		r.send(ctx, enterAt("L1", dayAt(12, 10, 20, 1), market.Buy, 1, 5000, 4995, 5010), limits.OK)
		r.step(ctx, dayAt(12, 10, 20, 2), pts(5000))
		r.step(ctx, dayAt(12, 10, 28, 0), pts(5000))
		r.step(ctx, dayAt(12, 10, 28, 1), pts(5000))
		if r.liquidations("L1") != 1 || r.venuePos("L1") != 0 {
			t.Fatalf("%d liquidations, venue %d", r.liquidations("L1"), r.venuePos("L1"))
		}
		r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 29, 0))
		r2.step(ctx, dayAt(12, 10, 29, 1), pts(5000))
		if n := r2.liquidations("L1"); n != 2 {
			t.Fatalf("%d liquidations: the flatten whose record was lost is not sent again", n)
		}
	})
}

// TestRulesFirmReduceOnly: the firm link's reduce-only hook makes the desk
// refuse entries (reduce_only) while every exit is allowed, journaled and
// shown in Status; lifted when the firm lifts it; a restart brings it back
// as it was (from the record, and from a snapshot taken while it was on),
// never as the desk ladder's rung. Each change, and only a change, is one
// alert: firm_reduce_only on, firm_reduce_only_lifted off, with how long it
// lasted (known across a restart from the record, not from a snapshot).
func TestRulesFirmReduceOnly(t *testing.T) {
	for _, snap := range []bool{false, true} {
		t.Run(map[bool]string{false: "from the record", true: "from a snapshot"}[snap], func(t *testing.T) {
			ctx := ctxT(t, 30*time.Second)
			al := &recAlerts{}
			alerts := func(on, lifted int) {
				t.Helper()
				if a, b := al.count(alert.KindFirmReduceOnly, ""), al.count(alert.KindFirmReduceOnlyLifted, ""); a != on || b != lifted {
					t.Fatalf("%d firm reduce-only alerts and %d lifted, want %d and %d", a, b, on, lifted)
				}
			}
			lastLifted := func() alert.Alert {
				t.Helper()
				al.mu.Lock()
				defer al.mu.Unlock()
				for i := len(al.got) - 1; i >= 0; i-- {
					if a := al.got[i]; a.Kind == alert.KindFirmReduceOnlyLifted {
						if a.Severity != alert.Info || a.Link == nil || a.Link.Link != "firm" {
							t.Fatalf("lifted alert %+v", a)
						}
						return a
					}
				}
				t.Fatal("no lifted alert")
				return alert.Alert{}
			}
			o := rigOpt{Accounts: []AccountSpec{ruleSpec("F1", 10000, limits.Config{}), ruleSpec("F2", 10000, limits.Config{})}, Alerts: al}
			r := newRig(t, o)
			r.start(ctx, dayAt(12, 10, 0, 0))
			r.step(ctx, dayAt(12, 10, 0, 1), pts(5000.25))
			r.send(ctx, enterAt("F1", dayAt(12, 10, 0, 1), market.Buy, 1, 5000, 4995, 5010), limits.OK)
			r.step(ctx, dayAt(12, 10, 0, 2), pts(5000))

			r.d.SetFirmReduceOnly(ctx, true)
			r.d.SetFirmReduceOnly(ctx, true) // said twice: journaled once
			alerts(1, 0)                     // said twice: alerted once
			if st := r.d.Status(ctx); !st.FirmReduceOnly || st.DeskLevel != "normal" || !r.d.FirmReduceOnly() {
				t.Fatalf("status firm_reduce_only %v desk level %q, want true and the ladder's own normal", st.FirmReduceOnly, st.DeskLevel)
			}
			r.send(ctx, enterAt("F2", dayAt(12, 10, 0, 3), market.Buy, 1, 5000, 4995, 5010), limits.ReduceOnly)
			r.send(ctx, addAt("F1", dayAt(12, 10, 0, 3), 1, 5000, 4995, 5010), limits.ReduceOnly)
			r.send(ctx, exitAt("F1", dayAt(12, 10, 0, 4)), limits.OK) // risk-reducing: allowed
			r.step(ctx, dayAt(12, 10, 0, 5), pts(5000))

			r.d.SetFirmReduceOnly(ctx, false)
			if st := r.d.Status(ctx); st.FirmReduceOnly {
				t.Fatal("status still firm_reduce_only after the firm lifted it")
			}
			r.d.SetFirmReduceOnly(ctx, false) // said twice: alerted once
			alerts(1, 1)
			if a := lastLifted(); a.Link.DownFor != time.Duration(dayAt(12, 10, 0, 5)-dayAt(12, 10, 0, 2)) {
				t.Fatalf("lifted after %v, want the 3 s between on and off", a.Link.DownFor)
			}
			r.send(ctx, enterAt("F2", dayAt(12, 10, 0, 6), market.Buy, 1, 5000, 4995, 5010), limits.OK)
			if n := countRisk(r.riskEvents(""), riskFirm); n != 2 {
				t.Fatalf("%d firm reduce-only records, want 2 (on, off)", n)
			}

			// On again, then a restart: the desk comes back reduce-only by
			// the firm, its own ladder at normal (the record is no rung).
			r.d.SetFirmReduceOnly(ctx, true)
			if snap {
				if err := r.d.Snapshot(ctx); err != nil {
					t.Fatal(err)
				}
			}
			r2, _ := r.restartOn(ctx, o, dayAt(12, 10, 5, 0))
			r2.step(ctx, dayAt(12, 10, 5, 1), pts(5000))
			if st := r2.d.Status(ctx); !st.FirmReduceOnly || st.DeskLevel != "normal" {
				t.Fatalf("after the restart firm_reduce_only %v desk level %q, want true and normal", st.FirmReduceOnly, st.DeskLevel)
			}
			r2.send(ctx, enterAt("F1", dayAt(12, 10, 5, 1), market.Buy, 1, 5000, 4995, 5010), limits.ReduceOnly)
			r2.d.SetFirmReduceOnly(ctx, false)                               // the restarted link hears the firm
			alerts(2, 2)                                                     // on again before the restart; the restored state is no new alert
			want := time.Duration(dayAt(12, 10, 5, 1) - dayAt(12, 10, 0, 5)) // on again at the clock of the last step
			if snap {
				want = 0 // the snapshot holds the state, not when it began
			}
			if a := lastLifted(); a.Link.DownFor != want {
				t.Fatalf("lifted after the restart after %v, want %v", a.Link.DownFor, want)
			}
			r2.send(ctx, enterAt("F1", dayAt(12, 10, 5, 2), market.Buy, 1, 5000, 4995, 5010), limits.OK)

			// Lifted, then restarted again: it stays off.
			r3, _ := r2.restartOn(ctx, o, dayAt(12, 10, 6, 0))
			r3.step(ctx, dayAt(12, 10, 6, 1), pts(5000))
			if st := r3.d.Status(ctx); st.FirmReduceOnly {
				t.Fatal("a lifted firm reduce-only came back after a restart")
			}

			// Lifted for another reason (a run with no firm link): the
			// record and the alert say that reason, not that the firm spoke.
			r3.d.SetFirmReduceOnly(ctx, true)
			const why = "this run has no firm link"
			r3.d.LiftFirmReduceOnly(ctx, why)
			if r3.d.FirmReduceOnly() {
				t.Fatal("LiftFirmReduceOnly left it on")
			}
			if a := lastLifted(); a.Detail != why {
				t.Fatalf("lifted alert detail %q, want %q", a.Detail, why)
			}
			var last journal.Risk
			for _, rk := range r3.riskEvents("") {
				if rk.Event == riskFirm {
					last = rk
				}
			}
			if last.Detail != why || last.Level != limits.LevelNormal.String() {
				t.Fatalf("the lift's record %+v, want level normal, detail %q", last, why)
			}
		})
	}
}
