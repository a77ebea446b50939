package supervisor

// status_test.go: what Status tells the console — the loss if every stop
// fills and the equity it leaves (each case worked out by hand), the rule
// nearest to tripping, and the journal's side (the last records, the
// blotter, kills and rejections by reason) read back from the real journal
// of a desk that traded, refused an intent and was killed, and again after
// a restart on the same journal.

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/market"
)

// statusAccount is one account (fees $1.20 a round turn, $50,000) of a
// desk whose limits are lim, with fills applied and marked at mark.
func statusAccount(t *testing.T, lim limits.Config, mark market.Price, fills ...accounts.Fill) *account {
	t.Helper()
	_, a := statusDesk(t, lim, mark, fills...)
	return a
}

// statusDesk is statusAccount with the bare desk it belongs to.
func statusDesk(t *testing.T, lim limits.Config, mark market.Price, fills ...accounts.Fill) (*Desk, *account) {
	t.Helper()
	d := &Desk{opt: Options{Limits: lim}, clock: market.NewReplayClock(time.Date(2026, 3, 16, 14, 0, 0, 0, time.UTC))}
	a, err := d.newAccount(AccountSpec{Config: accounts.Config{ID: "S1", StartEquity: decimal.NewFromInt(50000),
		FeesRT: decimal.RequireFromString("1.20")}})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fills {
		f.Time = int64(i + 1)
		if err := a.ledger.ApplyFill(f); err != nil {
			t.Fatal(err)
		}
	}
	if mark != 0 {
		a.ledger.Mark(mark)
	}
	return d, a
}

func buy(q int64, p float64) accounts.Fill {
	return accounts.Fill{Side: market.Buy, Qty: q, Price: pts(p)}
}
func sell(q int64, p float64) accounts.Fill {
	return accounts.Fill{Side: market.Sell, Qty: q, Price: pts(p)}
}

func stopOrder(id string, side market.Side, q int64, p float64) *order {
	return &order{id: id, role: limits.RoleStop, side: side, typ: market.StopOrder, qty: q, price: pts(p), status: broker.Working}
}

func TestStatusLossAtStop(t *testing.T) {
	cases := []struct {
		name   string
		slip   int64
		mark   float64
		fills  []accounts.Fill
		orders []*order
		// Worked out by hand: the loss, the equity left, the contracts.
		loss, equity string
		qty          int64
	}{
		{name: "long one lot, default slippage (2 ticks)", mark: 5000.25, fills: []accounts.Fill{buy(1, 5000)},
			orders: []*order{stopOrder("s", market.Sell, 1, 4999)},
			// exit 4998.50: −6 ticks −$7.50, −$1.20 round turn; 50,000 − .60 − 7.50 − .60
			loss: "-8.70", equity: "49991.30", qty: 1},
		{name: "the configured slippage", slip: 3, mark: 5000.25, fills: []accounts.Fill{buy(1, 5000)},
			orders: []*order{stopOrder("s", market.Sell, 1, 4999)},
			// exit 4998.25: −7 ticks −$8.75
			loss: "-9.95", equity: "49990.05", qty: 1},
		{name: "short two lots", mark: 4999.75, fills: []accounts.Fill{sell(2, 5000)},
			orders: []*order{stopOrder("s", market.Buy, 2, 5001)},
			// exit 5001.50: −6 ticks × 2 −$15.00, −$2.40; 50,000 − 1.20 − 15.00 − 1.20
			loss: "-17.40", equity: "49982.60", qty: 2},
		{name: "a stop for half the position", mark: 5000.25, fills: []accounts.Fill{buy(2, 5000)},
			orders: []*order{stopOrder("s", market.Sell, 1, 4999)},
			// one contract out at 4998.50 (−$7.50 − $1.20); the other stays marked +$1.25
			loss: "-8.70", equity: "49991.95", qty: 1},
		{name: "two stops for one lot: the worse fill counts", mark: 5000.25, fills: []accounts.Fill{buy(1, 5000)},
			orders: []*order{stopOrder("a", market.Sell, 1, 4999.50), stopOrder("b", market.Sell, 1, 4998)},
			// exit 4997.50: −10 ticks −$12.50
			loss: "-13.70", equity: "49986.30", qty: 1},
		{name: "a stop moved into profit", mark: 5003, fills: []accounts.Fill{buy(1, 5000)},
			orders: []*order{stopOrder("s", market.Sell, 1, 5002)},
			// exit 5001.50: +6 ticks +$7.50 − $1.20; 50,000 − .60 + 7.50 − .60
			loss: "6.30", equity: "50006.30", qty: 1},
		{name: "two lots bought at two prices", mark: 5001, fills: []accounts.Fill{buy(1, 5000), buy(1, 5001)},
			orders: []*order{stopOrder("s", market.Sell, 2, 4999)},
			// average 5000.50, exit 4998.50: −8 ticks × 2 −$20.00 − $2.40; 50,000 − 1.20 − 20.00 − 1.20
			loss: "-22.40", equity: "49977.60", qty: 2},
		{name: "no stop on the exit side, a target, a filled stop", mark: 5000.25, fills: []accounts.Fill{buy(1, 5000)},
			orders: []*order{stopOrder("wrong", market.Buy, 1, 5002),
				{id: "t", role: limits.RoleTarget, side: market.Sell, typ: market.LimitOrder, qty: 1, price: pts(5004), status: broker.Working},
				{id: "f", role: limits.RoleStop, side: market.Sell, typ: market.StopOrder, qty: 0, filled: 1, price: pts(4999), status: broker.Filled}}},
		{name: "flat, a stop still working", fills: []accounts.Fill{buy(1, 5000), sell(1, 5001)},
			orders: []*order{stopOrder("s", market.Sell, 1, 4999)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lim := limits.Config{SlippageTicks: c.slip}
			a := statusAccount(t, lim, pts(c.mark), c.fills...)
			for _, o := range c.orders {
				a.orders[o.id] = o
			}
			var as deskapi.AccountStatus
			a.lossAtStop(&as)
			if as.LossAtStop != c.loss || as.EquityAtStop != c.equity || as.StopQty != c.qty {
				t.Fatalf("loss at stop %q, equity at stop %q, %d contracts; want %q, %q, %d",
					as.LossAtStop, as.EquityAtStop, as.StopQty, c.loss, c.equity, c.qty)
			}
		})
	}
}

// TestStatusNearestRule: the account's risk usage names the rule nearest
// to tripping (limits' Usage, the only answer Status gives) and says
// what is left before it trips in that rule's own units. Each "left" is
// worked out by hand: the $750 allowance (1.5% of $50,000) puts the
// reduce-only rung at 90% of it, $675.
func TestStatusNearestRule(t *testing.T) {
	trailing := limits.Config{TrailingMode: limits.TrailingIntraday, TrailingDrawdown: decimal.NewFromInt(300)}
	cases := []struct {
		name       string
		lim        limits.Config
		fills      []accounts.Fill
		mark       float64
		rule, left string
		bp         int64
	}{
		{name: "fresh: the reduce-only rung, all of it left", rule: "reduce_only", left: "$675.00", bp: 0},
		// One losing trade of $50 + $1.20: 7.58% of the $675 rung, 1 of 3
		// losses in a row (33.33%), 1 of 20 trades.
		{name: "one loss: the loss streak", fills: []accounts.Fill{buy(1, 5000), sell(1, 4990)},
			rule: "loss_streak_cooldown", left: "2 losses", bp: 3333},
		// $501.20 lost: 74.25% of the rung beats 1 of 3 losses.
		{name: "a big loss: the reduce-only rung", fills: []accounts.Fill{buy(1, 5000), sell(1, 4900)},
			rule: "reduce_only", left: "$173.80", bp: 7425},
		{name: "past the rung: reached", fills: []accounts.Fill{buy(1, 5000), sell(1, 4860)},
			rule: "reduce_only", left: "reached", bp: 10388},
		{name: "at max_position", fills: []accounts.Fill{buy(20, 5000)}, mark: 5000,
			rule: "max_position", left: "reached", bp: 10000},
		{name: "three contracts under max_position", fills: []accounts.Fill{buy(17, 5000)}, mark: 5000,
			rule: "max_position", left: "3 contracts", bp: 8500},
		// $251.20 lost against a $300 trailing line: $48.80 left (83.73%),
		// more than the rung's 37.21% or the streak's 33.33%.
		{name: "the trailing line", lim: trailing, fills: []accounts.Fill{buy(1, 5000), sell(1, 4950)},
			rule: "trailing_drawdown", left: "$48.80", bp: 8373},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, a := statusDesk(t, c.lim, pts(c.mark), c.fills...)
			u := a.usage(d)
			if u.NearestRule != c.rule || u.NearestLeft != c.left || u.NearestBP != c.bp {
				t.Fatalf("nearest %s (%d bp), left %q; want %s (%d bp), left %q", u.NearestRule, u.NearestBP, u.NearestLeft, c.rule, c.bp, c.left)
			}
		})
	}
}

// TestStatusFromTheJournal trades, refuses and kills on a real desk and
// checks what Status shows against the journal itself, then restarts on
// the same journal: the session's blotter, kills and rejections are still
// there.
func TestStatusFromTheJournal(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	path := t.TempDir() + "/desk.db"
	r := newRig(t, rigOpt{Accounts: killSpecs(2), Path: path})
	tm := r.inPosition(ctx, "K2")
	// Refused by the gate: over max_order_qty (10), and a stop on the wrong side.
	big := entryFor("K2", tm)
	big.Qty = 11
	if res := r.d.HandleIntent(ctx, big); res.Sent || res.Decision.Reason != limits.MaxOrderQty {
		t.Fatalf("an 11-lot entry: %+v", res)
	}
	wrong := entryFor("K2", tm)
	wrong.Stop = pts(5001)
	if res := r.d.HandleIntent(ctx, wrong); res.Sent || res.Decision.Reason != limits.StopWrongSide {
		t.Fatalf("a stop above a long's entry: %+v", res)
	}
	if _, err := r.d.Kill(ctx, DeskScope, TriggerConsole, "risk-manager"); err != nil {
		t.Fatal(err)
	}
	r.step(ctx, tm+int64(time.Second), pts(4998)) // the liquidation fills, 2 points down
	st := r.d.Status(ctx)

	recs := r.records()
	check := func(st deskapi.Status, recs []journal.Record) {
		t.Helper()
		// The journal panel is the journal's last records, in order.
		if len(st.Journal) != tailLines || len(recs) < tailLines {
			t.Fatalf("journal tail of %d lines (journal %d records), want %d", len(st.Journal), len(recs), tailLines)
		}
		for i, l := range st.Journal {
			want := recs[len(recs)-tailLines+i]
			if l.Seq != want.Seq || l.Kind != string(want.Kind) || l.Account != want.Account || l.Text == "" {
				t.Fatalf("journal line %d %+v, want record %d %s %s", i, l, want.Seq, want.Kind, want.Account)
			}
		}
		// The blotter: every fill journaled this session, as journaled.
		var want []deskapi.Fill
		for _, rec := range recs {
			if rec.Kind != journal.KindBrokerEvent {
				continue
			}
			ev, _ := rec.BrokerEvent()
			if ev.FillQty > 0 {
				want = append(want, deskapi.Fill{Seq: rec.Seq, Account: ev.Account, Side: ev.Side.String(), Qty: ev.FillQty, Price: ev.FillPrice.Points()})
			}
		}
		if len(want) != 2 || len(st.Fills) != len(want) {
			t.Fatalf("blotter %+v, want the journal's fills %+v (K1's entry and its liquidation)", st.Fills, want)
		}
		for i, f := range st.Fills {
			w := want[i]
			if f.Seq != w.Seq || f.Account != w.Account || f.Side != w.Side || f.Qty != w.Qty || f.Price != w.Price {
				t.Fatalf("blotter row %d %+v, want %+v", i, f, w)
			}
		}
		if f := st.Fills[0]; f.Role != "entry" || f.Strategy != "test" {
			t.Errorf("the entry's fill: role %q strategy %q, want entry of test", f.Role, f.Strategy)
		}
		if f := st.Fills[1]; f.Role != "liquidation" || f.Strategy != "desk" {
			t.Errorf("the liquidation's fill: role %q strategy %q, want liquidation of desk", f.Role, f.Strategy)
		}
		if len(st.Kills) != 1 || st.Kills[0].Scope != "desk" || st.Kills[0].Who != "risk-manager" || st.Kills[0].Trigger != string(TriggerConsole) {
			t.Fatalf("kills %+v, want the desk kill by risk-manager", st.Kills)
		}
		got := map[string]map[string]int{}
		for _, a := range st.Accounts {
			got[a.ID] = a.Rejections
		}
		if len(got["K1"]) != 0 || got["K2"]["max_order_qty"] != 1 || got["K2"]["stop_wrong_side"] != 1 || len(got["K2"]) != 2 {
			t.Fatalf("rejections %v, want K2's max_order_qty 1 and stop_wrong_side 1", got)
		}
	}
	check(st, recs)
	// K1 lost 2 points and $1.20 of fees: $11.20 of the desk's $1,500
	// (1.5% of $100,000).
	if want := 11.20 / 1500; st.DrawdownUsed < want-1e-9 || st.DrawdownUsed > want+1e-9 {
		t.Errorf("desk allowance used %v, want %v", st.DrawdownUsed, want)
	}

	// A restart on the same journal, in the same session: the session's
	// records are still what Status shows.
	r.close()
	r2 := newRig(t, rigOpt{Accounts: killSpecs(2), Path: path})
	if _, err := r2.d.Recover(r2.j); err != nil {
		t.Fatal(err)
	}
	r2.start(ctx, tm+int64(2*time.Second))
	st2 := r2.d.Status(ctx)
	check(st2, r2.records())
}

// TestStatusViewSessions: a new session starts the blotter, kills and
// rejections again; a desk restarted within the session does not.
func TestStatusViewSessions(t *testing.T) {
	known := map[string]*account{"A": {}}
	v := &statusView{}
	reset := func(s, why string) journal.Record {
		return journal.NewSessionReset(1, journal.SessionReset{Session: s, Why: why})
	}
	refused := func() journal.Record {
		return journal.NewIntent(intent.Intent{ID: "x", Kind: intent.Enter, Account: "A", Qty: 1},
			&journal.Decision{Reason: "price_band"})
	}
	killed := journal.NewKill(2, journal.Kill{Scope: "desk", Trigger: "console", Who: "r"})
	for _, r := range []journal.Record{reset("RTH 2026-03-02", "desk start"), refused(), killed, reset("RTH 2026-03-02", "desk start"), refused()} {
		v.fold(r, known)
	}
	if v.rejects["A"]["price_band"] != 2 || len(v.kills) != 1 {
		t.Fatalf("after a restart within the session: rejections %v, kills %v; want 2 and 1", v.rejects, v.kills)
	}
	unknown := journal.NewIntent(intent.Intent{ID: "y", Kind: intent.Enter, Account: "B", Qty: 1}, &journal.Decision{Reason: "price_band"})
	v.fold(unknown, known)
	if len(v.rejects["B"]) != 0 {
		t.Fatalf("a refusal for an account the desk does not have was counted: %v", v.rejects)
	}
	v.fold(reset("RTH 2026-03-03", ""), known)
	if len(v.rejects["A"]) != 0 || len(v.kills) != 0 || len(v.fills) != 0 {
		t.Fatalf("a new session kept the last one's records: %v %v %v", v.rejects, v.kills, v.fills)
	}
}
