// Package consoletest holds what tests of the console need: a fake desk
// whose accounts move on every status call, and the browser flow (real
// headless Chromium driven by chromedp) that any deskapi.Desk can be put
// through, so the same flow can later run against the real supervisor.
//
// It may touch auth, console, deskapi and chromedp, and starts Chromium ($CHROMIUM or chromium):
// tests only.
package consoletest

// fake.go: FakeDesk, a deterministic deskapi.Desk with three accounts (or
// any number, NewFakeDeskOf), with every field the console shows: the
// grid's loss at stop and nearest rule, the blotter, rejections and kills.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/deskapi"
)

// Action is one call the fake desk received.
type Action struct {
	Op, Account, Who, Why string
	Run                   bool
}

type fakeAcct struct {
	id, owner, state string
	strategies       []string
	engines          bool
	pos              int64
	avgTicks         int64 // price in ticks
	realized         decimal.Decimal
	fees             decimal.Decimal
	coverStop        bool
	stopTicks        int64 // the stop's distance from the average, ticks
	rejects          map[string]int
	curve            []deskapi.Point
	trips            []deskapi.RoundTrip
	signal           string
}

// FakeDesk is a desk of three accounts (ACC1, ACC2, ACC3) whose last price
// moves one step on every Status call, so every account's figures change.
// Flatten, Rearm, Unlock, ClearFault, SetEngines and Press change it as a
// supervisor would (immediately). Safe for concurrent use.
type FakeDesk struct {
	mu          sync.Mutex
	step        int64
	state       string
	button      string
	venue, data string
	accts       []*fakeAcct
	journal     []deskapi.JournalLine
	fills       []deskapi.Fill
	kills       []deskapi.KillLine
	zone        string
	actions     []Action
	statusCalls int64
	t0          time.Time
	journalPad  int
}

var (
	tickValue   = decimal.RequireFromString("1.25")
	startEquity = decimal.RequireFromString("50000.00")
	lockoutFrac = decimal.RequireFromString("0.015")
)

const baseTicks = 20600 // 5150.00

// NewFakeDesk returns the three-account desk, running, with a simulated panic button.
func NewFakeDesk() *FakeDesk {
	d := newFake()
	d.accts = []*fakeAcct{
		d.mk("ACC1", "alice", 2, baseTicks-1, true, 8, "orb", seedTrips("orb", 12, 8)),
		d.mk("ACC2", "bob", -1, baseTicks+4, true, 8, "vwapmr", seedTrips("vwapmr", 3, 2)),
		d.mk("ACC3", "carol", 1, baseTicks+1, false, 8, "delta", seedTrips("delta", 1, 3)),
	}
	d.accts[0].rejects["max_position"] = 2
	d.accts[1].rejects["price_band"] = 1
	d.journalf("desk", "", "desk started (fake)")
	return d
}

// NewFakeDeskOf returns a desk of n accounts (ACC01 … ACCnn), each with a
// different loss so far (the later the account, the more of its allowance
// used), alternating long and short, every position covered by a stop.
func NewFakeDeskOf(n int) *FakeDesk {
	d := newFake()
	strats := []string{"orb", "vwapmr", "delta"}
	for i := 1; i <= n; i++ {
		pos := int64(1 + i%3)
		if i%2 == 0 {
			pos = -pos
		}
		strat := strats[i%3]
		a := d.mk(fmt.Sprintf("ACC%02d", i), fmt.Sprintf("trader%d", i), pos, baseTicks-pos, true, 6+int64(i%5), strat, seedTrips(strat, 2, i%4))
		// A realized loss growing with i: ACCnn has used the most.
		a.realized = a.realized.Sub(decimal.NewFromInt(int64(i) * 30))
		if i%4 == 0 {
			a.rejects["loss_bound"] = i / 4
		}
		d.accts = append(d.accts, a)
	}
	d.journalf("desk", "", "desk started (fake, %d accounts)", n)
	return d
}

func newFake() *FakeDesk {
	return &FakeDesk{state: "running", button: "sim", venue: "sim", data: "up", zone: "America/New_York",
		t0: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)}
}

func (d *FakeDesk) mk(id, owner string, pos, avg int64, cover bool, stopTicks int64, strat string, trips []deskapi.RoundTrip) *fakeAcct {
	a := &fakeAcct{id: id, owner: owner, state: "trading", strategies: []string{strat}, engines: true,
		pos: pos, avgTicks: avg, coverStop: cover, stopTicks: stopTicks, trips: trips, signal: strat + ": entry on breakout",
		rejects: map[string]int{}}
	for _, t := range trips {
		a.realized = a.realized.Add(decimal.RequireFromString(t.PnL))
		a.fees = a.fees.Add(decimal.RequireFromString(t.Fees))
	}
	if pos != 0 {
		side := "buy"
		if pos < 0 {
			side = "sell"
		}
		d.fills = append(d.fills, deskapi.Fill{Seq: uint64(len(d.fills) + 1), Time: d.t0.Format(time.RFC3339Nano), Account: id,
			Strategy: strat, ClientID: id + "-e", Role: "entry", Side: side, Qty: abs(pos), Price: float64(avg) * 0.25})
	}
	return a
}

// seedTrips makes wins round trips of +8 ticks and losses of −5, one contract, $1.20 fees.
func seedTrips(strat string, wins, losses int) []deskapi.RoundTrip {
	var out []deskapi.RoundTrip
	t := time.Date(2026, 3, 2, 14, 31, 0, 0, time.UTC)
	for i, w, l := 0, wins, losses; w+l > 0; i++ {
		ticks := int64(8)
		if l > 0 && (w == 0 || i%3 == 2) {
			ticks = -5
			l--
		} else {
			w--
		}
		entry := float64(baseTicks+int64(i)) * 0.25
		out = append(out, deskapi.RoundTrip{
			Strategy: strat, Side: "buy", Qty: 1, Entry: entry, Exit: entry + float64(ticks)*0.25,
			Ticks: ticks, PnL: tickValue.Mul(decimal.NewFromInt(ticks)).StringFixed(2), Fees: "1.20",
			EntryAt: t.Format(time.RFC3339), ExitAt: t.Add(4 * time.Minute).Format(time.RFC3339),
		})
		t = t.Add(7 * time.Minute)
	}
	return out
}

func (d *FakeDesk) journalf(kind, account, format string, args ...any) {
	seq := uint64(len(d.journal) + 1)
	d.journal = append(d.journal, deskapi.JournalLine{
		Seq: seq, Time: d.now().Format(time.RFC3339), Kind: kind, Account: account, Text: fmt.Sprintf(format, args...)})
}

func (d *FakeDesk) now() time.Time { return d.t0.Add(time.Duration(d.step) * time.Second) }

// lastTicks is the price at the current step: a zig-zag around 5150.00 that
// moves every step.
func (d *FakeDesk) lastTicks() int64 {
	return baseTicks + []int64{0, 2, 3, 1, -1, -3, -4, -2}[d.step%8]
}

// Status advances the fake market one step and reports the desk.
func (d *FakeDesk) Status(ctx context.Context) deskapi.Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.statusCalls++
	d.step++
	last := d.lastTicks()
	st := deskapi.Status{
		Time: d.now().Format(time.RFC3339), State: d.state, Session: "RTH 2026-03-02",
		LastPrice: float64(last) * 0.25, Trades: int64(100 * d.step),
		Links:  deskapi.Links{Venue: d.venue, Data: d.data, Slack: "off", PanicButton: d.button},
		Lights: deskapi.Lights{Green: d.state == "running", Red: d.state != "running", Blinking: d.state == "halting"},
		Zone:   d.zone,
		Kills:  append([]deskapi.KillLine(nil), d.kills...),
		Fills:  append([]deskapi.Fill(nil), d.fills...),
	}
	deskNet, deskEq := decimal.Zero, decimal.Zero
	for _, a := range d.accts {
		unreal := tickValue.Mul(decimal.NewFromInt((last - a.avgTicks) * a.pos))
		net := a.realized.Add(unreal).Sub(a.fees)
		eq := startEquity.Add(net)
		allow := startEquity.Mul(lockoutFrac)
		used, _ := startEquity.Sub(eq).Div(allow).Float64()
		if used < 0 {
			used = 0
		}
		a.curve = append(a.curve, deskapi.Point{Time: d.now().UnixNano(), Equity: eq.StringFixed(2)})
		if len(a.curve) > 400 {
			a.curve = a.curve[1:]
		}
		as := deskapi.AccountStatus{
			ID: a.id, Owner: a.owner, State: a.state, Strategies: a.strategies, EnginesOn: a.engines,
			Position: a.pos, Realized: a.realized.StringFixed(2), Unrealized: unreal.StringFixed(2),
			Fees: a.fees.StringFixed(2), Net: net.StringFixed(2), StartEquity: startEquity.StringFixed(2),
			Equity: eq.StringFixed(2), LockoutLine: startEquity.Sub(allow).StringFixed(2), DrawdownUsed: used,
			MaxDrawdown: allow.StringFixed(2), RoundTrips: len(a.trips), StopCovered: a.pos == 0 || a.coverStop,
			LastSignal: a.signal, Worker: "in-process",
			EquityCurve: append([]deskapi.Point(nil), a.curve...),
			Trades:      append([]deskapi.RoundTrip(nil), a.trips...),
			Rejections:  map[string]int{},
		}
		as.Risk = fakeRisk(startEquity.Sub(eq), allow, int64(len(a.trips)))
		for k, v := range a.rejects {
			as.Rejections[k] = v
		}
		for _, t := range a.trips {
			if t.Ticks > 0 {
				as.Wins++
			} else {
				as.Losses++
			}
		}
		if a.pos != 0 {
			as.AvgPrice = float64(a.avgTicks) * 0.25
			exit := "sell"
			sgn := int64(1)
			if a.pos < 0 {
				exit, sgn = "buy", -1
			}
			qty := a.pos * sgn
			if a.coverStop {
				stop := a.avgTicks - sgn*a.stopTicks
				as.Orders = append(as.Orders, deskapi.Order{ClientID: a.id + "-s", Role: "stop", Side: exit, Type: "stop",
					Qty: qty, Price: float64(stop) * 0.25, Status: "working", Strategy: a.strategies[0]})
				// Filled one tick worse than the stop, $0.60 a contract to close.
				gross := tickValue.Mul(decimal.NewFromInt((stop - sgn - a.avgTicks) * a.pos))
				closeFees := decimal.RequireFromString("0.60").Mul(decimal.NewFromInt(qty))
				as.LossAtStop = gross.Sub(closeFees.Mul(decimal.NewFromInt(2))).StringFixed(2)
				as.EquityAtStop = eq.Sub(unreal).Add(gross).Sub(closeFees).StringFixed(2)
				as.StopQty = qty
			}
			as.Orders = append(as.Orders, deskapi.Order{ClientID: a.id + "-t", Role: "target", Side: exit, Type: "limit",
				Qty: qty, Price: float64(a.avgTicks+sgn*12) * 0.25, Status: "working", Strategy: a.strategies[0]})
		}
		st.Accounts = append(st.Accounts, as)
		deskNet = deskNet.Add(net)
		deskEq = deskEq.Add(eq)
	}
	st.Net = deskNet.StringFixed(2)
	st.Equity = deskEq.StringFixed(2)
	deskStart := startEquity.Mul(decimal.NewFromInt(int64(len(d.accts))))
	deskLine := deskStart.Mul(decimal.RequireFromString("0.98"))
	st.DeskLockout = deskLine.StringFixed(2)
	if u, _ := deskStart.Sub(deskEq).Div(deskStart.Sub(deskLine)).Float64(); u > 0 {
		st.DrawdownUsed = u
	}
	tail := d.journal
	if len(tail) > 20 {
		tail = tail[len(tail)-20:]
	}
	st.Journal = append([]deskapi.JournalLine(nil), tail...)
	for i := 0; i < d.journalPad; i++ {
		st.Journal = append(st.Journal, deskapi.JournalLine{Seq: uint64(100000 + i), Kind: "pad", Account: "ACC1",
			Text: "padding line to make the snapshot large ........................................"})
	}
	return st
}

func (d *FakeDesk) find(id string) *fakeAcct {
	for _, a := range d.accts {
		if a.id == id {
			return a
		}
	}
	return nil
}

func (d *FakeDesk) flattenLocked(account string) error {
	var scope []*fakeAcct
	if account == "" {
		scope = d.accts
		d.state = "halted"
	} else if a := d.find(account); a != nil {
		scope = []*fakeAcct{a}
	} else {
		return deskapi.ErrUnknownAccount
	}
	last := d.lastTicks()
	for _, a := range scope {
		if a.pos != 0 {
			side := "sell"
			if a.pos < 0 {
				side = "buy"
			}
			d.fills = append(d.fills, deskapi.Fill{Seq: uint64(len(d.fills) + 1), Time: d.now().Format(time.RFC3339Nano), Account: a.id,
				Strategy: "desk", ClientID: "liquidate." + a.id, Role: "liquidation", Side: side, Qty: abs(a.pos), Price: float64(last) * 0.25})
		}
		a.realized = a.realized.Add(tickValue.Mul(decimal.NewFromInt((last - a.avgTicks) * a.pos)))
		a.fees = a.fees.Add(decimal.RequireFromString("1.20").Mul(decimal.NewFromInt(abs(a.pos))))
		a.pos = 0
		a.engines = false
		a.state = "halted"
	}
	return nil
}

func (d *FakeDesk) kill(account, trigger, who string) {
	scope := account
	if scope == "" {
		scope = "desk"
	}
	d.kills = append(d.kills, deskapi.KillLine{Time: d.now().Format(time.RFC3339), Scope: scope, Trigger: trigger, Who: who})
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Flatten halts and flattens the desk ("") or one account at once.
func (d *FakeDesk) Flatten(ctx context.Context, account, trigger, who string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.actions = append(d.actions, Action{Op: "flatten", Account: account, Who: who, Why: trigger})
	if err := d.flattenLocked(account); err != nil {
		return err
	}
	d.kill(account, trigger, who)
	d.journalf("kill", account, "flatten %q by %s (%s)", account, who, trigger)
	return nil
}

// Rearm returns a halted desk to running and its halted accounts to idle.
func (d *FakeDesk) Rearm(ctx context.Context, who, why string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.actions = append(d.actions, Action{Op: "rearm", Who: who, Why: why})
	if why == "" {
		return deskapi.ErrReasonRequired
	}
	if d.state != "halted" {
		return deskapi.ErrNotAllowed
	}
	d.state = "running"
	for _, a := range d.accts {
		if a.state == "halted" {
			a.state = "idle"
		}
	}
	d.journalf("rearm", "", "re-armed by %s: %s", who, why)
	return nil
}

// Unlock returns a locked-out account to idle.
func (d *FakeDesk) Unlock(ctx context.Context, account, who, why string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.actions = append(d.actions, Action{Op: "unlock", Account: account, Who: who, Why: why})
	a := d.find(account)
	if a == nil {
		return deskapi.ErrUnknownAccount
	}
	if a.state != "locked_out" {
		return deskapi.ErrNotAllowed
	}
	a.state = "idle"
	d.journalf("unlock", account, "unlocked by %s: %s", who, why)
	return nil
}

// ClearFault returns a faulted account to idle.
func (d *FakeDesk) ClearFault(ctx context.Context, account, who, why string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.actions = append(d.actions, Action{Op: "clear", Account: account, Who: who, Why: why})
	if why == "" {
		return deskapi.ErrReasonRequired
	}
	a := d.find(account)
	if a == nil {
		return deskapi.ErrUnknownAccount
	}
	if a.state != "faulted" {
		return deskapi.ErrNotAllowed
	}
	a.state = "idle"
	d.journalf("clear", account, "fault cleared by %s: %s", who, why)
	return nil
}

// ResetTrailing records the act; the fake keeps no trailing line, so it
// only checks the account and the reason.
func (d *FakeDesk) ResetTrailing(ctx context.Context, account, who, why string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.actions = append(d.actions, Action{Op: "reset_trailing", Account: account, Who: who, Why: why})
	if why == "" {
		return deskapi.ErrReasonRequired
	}
	if d.find(account) == nil {
		return deskapi.ErrUnknownAccount
	}
	d.journalf("risk", account, "trailing line reset by %s: %s", who, why)
	return nil
}

// SetEngines starts or stops an account's engines.
func (d *FakeDesk) SetEngines(ctx context.Context, account string, run bool, who string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.actions = append(d.actions, Action{Op: "engines", Account: account, Who: who, Run: run})
	a := d.find(account)
	if a == nil {
		return deskapi.ErrUnknownAccount
	}
	if run && (a.state == "halted" || a.state == "locked_out" || d.state == "halted") {
		return deskapi.ErrNotAllowed
	}
	a.engines = run
	if run {
		a.state = "trading"
	} else if a.state == "trading" {
		a.state = "idle"
	}
	d.journalf("engines", account, "engines run=%v by %s", run, who)
	return nil
}

// Press presses the simulated panic button: the desk is flattened.
func (d *FakeDesk) Press(ctx context.Context, who string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.actions = append(d.actions, Action{Op: "press", Who: who})
	if d.button != "sim" {
		return deskapi.ErrNoSimButton
	}
	_ = d.flattenLocked("")
	d.kill("", "button", who)
	d.journalf("kill", "", "panic button (sim) pressed by %s", who)
	return nil
}

// SetAccountState forces an account's state (e.g. "locked_out") for tests.
func (d *FakeDesk) SetAccountState(account, state string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.find(account); a != nil {
		a.state = state
	}
}

// SetZone sets the zone the desk reports (default America/New_York).
func (d *FakeDesk) SetZone(z string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.zone = z
}

// SetJournalPad adds n filler journal lines (of ACC1) to every status, to
// make snapshots large (stream back-pressure tests).
func (d *FakeDesk) SetJournalPad(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.journalPad = n
}

// SetPanicButton sets the panic button's link status ("sim", "ok", "offline: why").
func (d *FakeDesk) SetPanicButton(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.button = s
}

// SetDeskState forces the desk's state ("recovering", "degraded", …).
func (d *FakeDesk) SetDeskState(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state = s
}

// SetLinks sets the venue and market-data links ("" keeps one as it is;
// they start "sim" and "up").
func (d *FakeDesk) SetLinks(venue, data string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if venue != "" {
		d.venue = venue
	}
	if data != "" {
		d.data = data
	}
}

// Actions returns the calls received so far.
func (d *FakeDesk) Actions() []Action {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Action(nil), d.actions...)
}

// StatusCalls returns how many times Status has been called.
func (d *FakeDesk) StatusCalls() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.statusCalls
}

var _ deskapi.Desk = (*FakeDesk)(nil)

// fakeRisk is the risk usage of an account that has used usedAmt of its
// allowance and made trades round trips, under the default
// ladder (warning at 80%, reduce-only at 90%), a $500 trailing line off
// the start, the default trade limit (20), max position (20) and no
// scaling plan: the nearest rule is the reduce-only rung or the trade
// count, whichever is used more, as limits.AccountRules.Usage has it.
func fakeRisk(usedAmt, allow decimal.Decimal, trades int64) *deskapi.RiskUsage {
	reduce := allow.Mul(decimal.RequireFromString("0.9"))
	level := "normal"
	switch {
	case usedAmt.GreaterThanOrEqual(allow):
		level = "locked_out"
	case usedAmt.GreaterThanOrEqual(reduce):
		level = "reduce_only"
	case usedAmt.GreaterThanOrEqual(allow.Mul(decimal.RequireFromString("0.8"))):
		level = "warning"
	}
	trailing := decimal.NewFromInt(500)
	line := startEquity.Sub(trailing)
	eq := startEquity.Sub(usedAmt)
	r := &deskapi.RiskUsage{Level: level, AllowanceUsed: usedAmt.StringFixed(2), Allowance: allow.StringFixed(2),
		TrailingLine: line.StringFixed(2), TrailingLeft: eq.Sub(line).StringFixed(2), TrailingBroken: eq.LessThanOrEqual(line),
		TradesToday: trades, TradeLimit: 20, OrdersToday: 2 * trades, OrderLimit: 200, MaxPosition: 20}
	r.NearestRule, r.NearestBP = "reduce_only", max(usedAmt.Mul(decimal.NewFromInt(10000)).Div(reduce).IntPart(), 0)
	r.NearestLeft = "$" + decimal.Max(reduce.Sub(usedAmt), decimal.Zero).StringFixed(2)
	if tb := trades * 10000 / 20; tb > r.NearestBP {
		r.NearestRule, r.NearestBP, r.NearestLeft = "daily_trade_limit", tb, fmt.Sprintf("%d trades", 20-trades)
	}
	if r.NearestBP >= 10000 {
		r.NearestLeft = "reached"
	}
	return r
}
