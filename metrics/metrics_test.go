package metrics

// metrics_test.go: the families and their values from a desk's Status and
// Counts, Prometheus' own lint over them, the bounded labels, the latency
// hooks' zero allocations, and the handler's token rule.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/supervisor"
)

type fakeDesk struct {
	mu     sync.Mutex
	st     deskapi.Status
	counts []supervisor.AccountCounts
}

func (f *fakeDesk) Status(context.Context) deskapi.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeDesk) Counts() []supervisor.AccountCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

func sampleDesk() *fakeDesk {
	return &fakeDesk{
		st: deskapi.Status{State: "running", Trades: 1234, Equity: "99876.50", DeskLockout: "96000.00", DrawdownUsed: 0.03,
			Links: deskapi.Links{Venue: "up", Data: "stale", Slack: "off", PanicButton: "offline: gpio read failed"},
			Accounts: []deskapi.AccountStatus{
				{ID: "A1", State: "trading", Position: -2, Equity: "49876.50", LockoutLine: "48000.00", DrawdownUsed: 0.0623,
					Orders: []deskapi.Order{{ClientID: "A1.7"}, {ClientID: "A1.8"}},
					Risk:   &deskapi.RiskUsage{AllowanceUsed: "123.50", Allowance: "2000.00", NearestRule: "lockout", NearestBP: 617}},
				{ID: "A2", State: "locked_out", Position: 0, Equity: "50000.00", LockoutLine: "48000.00"},
			}},
		counts: []supervisor.AccountCounts{
			{ID: "A1", Intents: 10, Orders: 7, Fills: 5, Restarts: 1, Rejections: map[string]int{"max_position": 2, "halted": 1, "not_a_gate_reason": 4}},
			{ID: "A2", Rejections: map[string]int{}},
		},
	}
}

func newTestRegistry(t *testing.T, opt DeskOptions) (*prometheus.Registry, *Latency) {
	t.Helper()
	reg := NewRegistry()
	lat, err := NewLatency(reg)
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(NewDesk(opt))
	return reg, lat
}

func TestDeskFamilies(t *testing.T) {
	lag := uint64(42)
	reg, lat := newTestRegistry(t, DeskOptions{Desk: sampleDesk(), StreamClients: func() int { return 3 },
		OutboxLag: func() uint64 { return lag }, FirmUp: func() bool { return false }})
	lat.GateChecked(800 * time.Nanosecond)
	lat.KillSent("console", 2*time.Millisecond)
	lat.KillFlat(40 * time.Millisecond)
	lat.JournalCommit(3, 300*time.Microsecond)

	want := `
# HELP deskguard_account_equity_dollars Account equity (start equity plus realized and unrealized P&L less fees).
# TYPE deskguard_account_equity_dollars gauge
deskguard_account_equity_dollars{account="A1"} 49876.5
deskguard_account_equity_dollars{account="A2"} 50000
# HELP deskguard_account_allowance_used_dollars Account drawdown allowance used: start equity minus equity (negative when up on the day).
# TYPE deskguard_account_allowance_used_dollars gauge
deskguard_account_allowance_used_dollars{account="A1"} 123.5
# HELP deskguard_account_position_contracts Account net position in contracts (negative short).
# TYPE deskguard_account_position_contracts gauge
deskguard_account_position_contracts{account="A1"} -2
deskguard_account_position_contracts{account="A2"} 0
# HELP deskguard_account_working_orders Account orders working at the venue.
# TYPE deskguard_account_working_orders gauge
deskguard_account_working_orders{account="A1"} 2
deskguard_account_working_orders{account="A2"} 0
# HELP deskguard_account_state Account state machine: 1 for the state the account is in.
# TYPE deskguard_account_state gauge
deskguard_account_state{account="A1",state="trading"} 1
deskguard_account_state{account="A2",state="locked_out"} 1
# HELP deskguard_account_nearest_rule_used_ratio Share used of the risk rule nearest to tripping (1 = at it), by account and rule.
# TYPE deskguard_account_nearest_rule_used_ratio gauge
deskguard_account_nearest_rule_used_ratio{account="A1",rule="lockout"} 0.0617
# HELP deskguard_intents_total Intents gated (accepted or refused) since the desk started, by account.
# TYPE deskguard_intents_total counter
deskguard_intents_total{account="A1"} 10
deskguard_intents_total{account="A2"} 0
# HELP deskguard_worker_restarts_total Worker process restarts since the desk started, by account.
# TYPE deskguard_worker_restarts_total counter
deskguard_worker_restarts_total{account="A1"} 1
deskguard_worker_restarts_total{account="A2"} 0
# HELP deskguard_link_up Outside link health: 1 up (venue up or simulated, data up, Slack up, button ok or simulated, firm heartbeat seen), 0 otherwise (down, stale, ended, off, failing, offline).
# TYPE deskguard_link_up gauge
deskguard_link_up{link="data"} 0
deskguard_link_up{link="firm"} 0
deskguard_link_up{link="panic_button"} 0
deskguard_link_up{link="slack"} 0
deskguard_link_up{link="venue"} 1
# HELP deskguard_link_state Outside link state: 1 for the state the link is in.
# TYPE deskguard_link_state gauge
deskguard_link_state{link="data",state="stale"} 1
deskguard_link_state{link="firm",state="down"} 1
deskguard_link_state{link="panic_button",state="offline"} 1
deskguard_link_state{link="slack",state="off"} 1
deskguard_link_state{link="venue",state="up"} 1
# HELP deskguard_desk_state Desk state machine: 1 for the state the desk is in.
# TYPE deskguard_desk_state gauge
deskguard_desk_state{state="running"} 1
# HELP deskguard_desk_equity_dollars Desk equity: the sum of the accounts'.
# TYPE deskguard_desk_equity_dollars gauge
deskguard_desk_equity_dollars 99876.5
# HELP deskguard_feed_trades Market trades the desk has processed in this session.
# TYPE deskguard_feed_trades gauge
deskguard_feed_trades 1234
# HELP deskguard_console_stream_clients Console status stream (server-sent events) clients connected.
# TYPE deskguard_console_stream_clients gauge
deskguard_console_stream_clients 3
# HELP deskguard_outbox_lag_records Journal records committed and not yet acknowledged by the firm's stream.
# TYPE deskguard_outbox_lag_records gauge
deskguard_outbox_lag_records 42
`
	names := []string{"deskguard_account_equity_dollars", "deskguard_account_allowance_used_dollars", "deskguard_account_position_contracts",
		"deskguard_account_working_orders", "deskguard_account_state", "deskguard_account_nearest_rule_used_ratio",
		"deskguard_intents_total", "deskguard_worker_restarts_total", "deskguard_link_up",
		"deskguard_link_state", "deskguard_desk_state", "deskguard_desk_equity_dollars", "deskguard_feed_trades",
		"deskguard_console_stream_clients", "deskguard_outbox_lag_records"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]int{"deskguard_gate_check_seconds": 1, "deskguard_kill_sent_seconds": 1 + len(knownTriggers),
		"deskguard_kill_flat_seconds": 1, "deskguard_journal_commit_seconds": 1, "deskguard_journal_commit_records": 1,
		"deskguard_orders_total": 2, "deskguard_fills_total": 2, "deskguard_account_lockout_line_dollars": 2,
		"deskguard_account_allowance_dollars": 1, "deskguard_account_drawdown_used_ratio": 2,
		"deskguard_desk_lockout_line_dollars": 1, "deskguard_rejections_total": 2*len(limits.Reasons()) + 1, "deskguard_desk_drawdown_used_ratio": 1, "go_goroutines": 1} {
		if got, err := testutil.GatherAndCount(reg, name); err != nil || got != n {
			t.Errorf("%s: %d series (%v), want %d", name, got, err, n)
		}
	}
	for labels, want := range map[[2]string]float64{{"A1", "halted"}: 1, {"A1", "max_position"}: 2, {"A1", "not_a_gate_reason"}: 4,
		{"A2", "halted"}: 0, {"A1", "daily_trade_limit"}: 0} {
		got := -1.0
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "deskguard_rejections_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				if l := m.GetLabel(); l[0].GetValue() == labels[0] && l[1].GetValue() == labels[1] {
					got = m.GetCounter().GetValue()
				}
			}
		}
		if got != want {
			t.Errorf("rejections %v: %v, want %v", labels, got, want)
		}
	}
	// Prometheus' own naming and help checks over every family.
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestHistogramsObserve: each hook lands in its own histogram, the kill in
// its trigger's series; an unknown trigger is "other", never a new label.
func TestHistogramsObserve(t *testing.T) {
	reg, lat := newTestRegistry(t, DeskOptions{Desk: sampleDesk()})
	lat.KillSent(string(supervisor.TriggerButton), time.Millisecond)
	lat.KillSent("console", time.Millisecond)
	lat.KillSent("console", 3*time.Millisecond)
	lat.KillSent("anything a surface sent", time.Millisecond)
	lat.KillSent("and another", time.Millisecond)
	lat.JournalCommit(5, time.Millisecond)
	lat.JournalCommit(1, time.Millisecond)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	var recSum float64
	for _, mf := range mfs {
		switch mf.GetName() {
		case "deskguard_kill_sent_seconds":
			for _, m := range mf.GetMetric() {
				counts[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
			}
		case "deskguard_journal_commit_records":
			recSum = mf.GetMetric()[0].GetHistogram().GetSampleSum()
		}
	}
	if counts["console"] != 2 || counts["panic_button"] != 1 || counts[otherTrigger] != 2 || len(counts) != len(knownTriggers)+1 {
		t.Fatalf("kill sent counts by trigger %v", counts)
	}
	if recSum != 6 {
		t.Fatalf("records per commit sum %v, want 6", recSum)
	}
}

// TestHooksDoNotAllocate: the paths' hooks are atomic adds (the gate and
// the kill must not allocate for the metrics).
func TestHooksDoNotAllocate(t *testing.T) {
	_, lat := newTestRegistry(t, DeskOptions{Desk: sampleDesk()})
	trig := "console"
	other := strings.Repeat("x", 3)
	for name, f := range map[string]func(){
		"gate":         func() { lat.GateChecked(700 * time.Nanosecond) },
		"kill sent":    func() { lat.KillSent(trig, time.Millisecond) },
		"kill other":   func() { lat.KillSent(other, time.Millisecond) },
		"kill flat":    func() { lat.KillFlat(time.Millisecond) },
		"journal":      func() { lat.JournalCommit(4, time.Millisecond) },
		"via observer": func() { var o supervisor.Observer = lat; o.GateChecked(time.Microsecond) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations a sample", name, n)
		}
	}
}

func TestLinkState(t *testing.T) {
	for in, want := range map[string]string{"up": "up", "down": "down", "sim": "sim", "stale": "stale", "ended": "ended",
		"off": "off", "failing": "failing", "ok": "ok", "offline: gpio chip gone": "offline", "": "none",
		" up ": "up", "captcha demanded by the venue": "other", "UP": "other"} {
		if got := LinkState(in); got != want {
			t.Errorf("LinkState(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMalformedMoneyIsAScrapeError: a money string that does not parse is
// an error for its family, the rest still gathered.
func TestMalformedMoneyIsAScrapeError(t *testing.T) {
	fd := sampleDesk()
	fd.st.Accounts[0].Equity = "12,5"
	reg, _ := newTestRegistry(t, DeskOptions{Desk: fd})
	mfs, err := reg.Gather()
	if err == nil {
		t.Fatal("no error for a malformed equity")
	}
	found := false
	for _, mf := range mfs {
		found = found || mf.GetName() == "deskguard_account_position_contracts"
	}
	if !found {
		t.Fatal("the other families were not gathered")
	}
}

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "127.0.0.2": true, "::1": true, "::ffff:127.0.0.1": true,
		"10.0.0.5": false, "0.0.0.0": false, "::": false, "localhost": false, "": false, "garbage": false} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func get(t *testing.T, h http.Handler, remote, authz string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, Path, nil)
	req.RemoteAddr = remote
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

func TestHandlerToken(t *testing.T) {
	reg, _ := newTestRegistry(t, DeskOptions{Desk: sampleDesk()})
	noToken := Handler(reg, HandlerOptions{})
	if code, body := get(t, noToken, "127.0.0.1:5000", ""); code != 200 ||
		!strings.Contains(body, "deskguard_intents_total{account=\"A1\"} 10") {
		t.Fatalf("loopback, no token configured: %d %.200s", code, body)
	}
	if code, _ := get(t, noToken, "[::1]:5000", ""); code != 200 {
		t.Fatalf("::1, no token configured: %d", code)
	}
	if code, body := get(t, noToken, "10.0.0.9:5000", "Bearer anything"); code != 403 || strings.Contains(body, "deskguard_") {
		t.Fatalf("another machine, no token configured: %d %.100s", code, body)
	}
	now := time.Unix(1e9, 0)
	const tok = "s3cret-scrape-token"
	h := Handler(reg, HandlerOptions{Token: tok, Limits: auth.LimitConfig{Burst: 2, Backoff: time.Minute, BackoffMax: time.Hour},
		Now: func() time.Time { return now }})
	for _, tc := range []struct {
		name, remote, authz string
		code                int
	}{
		{"loopback needs none", "127.0.0.1:9", "", 200},
		{"none", "10.0.0.9:1", "", 401},
		{"right token", "10.0.0.9:1", "Bearer " + tok, 200},
		{"wrong token", "10.0.0.8:1", "Bearer nope", 401},
		{"not bearer", "10.0.0.8:2", "Basic " + tok, 401},
		{"a prefix of it", "10.0.0.8:3", "Bearer " + tok[:5], 401},                 // the third failure: past the burst of 2, a wait begins
		{"right token, same address, waiting", "10.0.0.8:4", "Bearer " + tok, 429}, // refused unchecked
		{"right token, another address", "10.0.0.7:1", "Bearer " + tok, 200},
		{"loopback while another waits", "127.0.0.1:10", "", 200},
	} {
		code, body := get(t, h, tc.remote, tc.authz)
		if code != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.code)
		}
		if code != 200 && (strings.Contains(body, tok) || strings.Contains(body, "deskguard_")) {
			t.Errorf("%s: refused, but the body holds the token or metrics: %.100s", tc.name, body)
		}
	}
	now = now.Add(time.Minute)
	if code, _ := get(t, h, "10.0.0.8:5", "Bearer "+tok); code != 200 {
		t.Fatalf("after the wait, the right token: %d", code)
	}
}
