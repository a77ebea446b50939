// notifier_test.go: the notifier against the fake Slack — golden payloads of
// every alert kind, 429 Retry-After, 5xx retries, giving up, an outage that
// never blocks Notify, flood coalescing and the queue's drop policy.

package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var t0 = time.Date(2026, 3, 16, 10, 31, 2, 0, market.NewYork)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// samples is one alert of every kind, deterministic.
func samples() map[string]Alert {
	return map[string]Alert{
		"kill": Kill(t0, KillFacts{Trigger: "slack", Who: "U123", Accounts: []string{"ACC1", "ACC2", "ACC3"},
			Flattened: []Position{{Account: "ACC1", Qty: 5}, {Account: "ACC2", Qty: -3}, {Account: "ACC3", Qty: 0}}, NetPnL: dec("-1234.5")}),
		"kill_account": Kill(t0, KillFacts{Scope: "ACC2", Trigger: "console", Who: "risk", Accounts: []string{"ACC2"},
			Flattened: []Position{{Account: "ACC2", Qty: -3}}, NetPnL: dec("46")}),
		"lockout":        Lockout(t0, "ACC1", LockoutFacts{Equity: dec("98480.00"), StartEquity: dec("100000"), Limit: dec("0.015")}),
		"worker_crash":   WorkerCrash(t0, "ACC1", "exit status 2: panic: index out of range"),
		"worker_restart": WorkerRestart(t0, "ACC1", 3, 4*time.Second),
		"worker_fault":   WorkerFault(t0, "ACC1", "crash loop: 5 restarts in 60s"),
		"stop_repaired":  StopRepaired(t0, "ACC3", StopFacts{Position: 5, Covered: 2, Action: "placed stop 5148.00 for 3"}),
		"link_lost":      LinkLost(t0, "broker", "websocket closed: EOF"),
		"link_back":      LinkBack(t0, "broker", 93*time.Second+400*time.Millisecond),
		"reconcile_mismatch": ReconcileMismatch(t0, "ACC2", ReconcileFacts{JournalPosition: 2, VenuePosition: -1,
			Action: "account faulted and flattened"}),
		"rearmed":       Rearmed(t0, "risk", "broker confirmed flat; resuming"),
		"unlocked":      Unlocked(t0, "ACC1", "risk", "data error caused the mark; verified with the venue"),
		"unlocked_desk": Unlocked(t0, "", "risk", "one bad fill; reviewed with the desk head"),
		"fault_cleared": FaultCleared(t0, "ACC2", "risk", "stop restored at the venue; positions agree"),
		"daily_summary": DailySummary(time.Date(2026, 3, 16, 16, 5, 0, 0, market.NewYork), SummaryFacts{Session: "2026-03-16",
			Accounts: []SummaryRow{
				{Account: "ACC1", Trades: 20, Wins: 12, Net: dec("46.00"), DrawdownUsed: dec("0.125")},
				{Account: "ACC2", Trades: 7, Wins: 2, Net: dec("-310.40"), DrawdownUsed: dec("0.62")},
				{Account: "ACC3", Trades: 0},
			}, DeskDrawdownUsed: dec("0.083")}),
		"journal_failed": JournalFailed(t0, "fdatasync: input/output error"),
		"risk_warning": RiskWarning(t0, "ACC1", RiskFacts{Equity: dec("98800.00"), Line: dec("98500.00"), From: dec("100000"),
			Used: dec("0.80"), Next: "Reduce-only at 90% used, locked out at 100%."}),
		"risk_warning_desk": RiskWarning(t0, "", RiskFacts{Equity: dec("295950.00"), Line: dec("295500.00"), From: dec("300000"),
			Used: dec("0.85"), Next: "Reduce-only at 90% used, locked out at 100%."}),
		"reduce_only": ReduceOnly(t0, "ACC1", RiskFacts{Equity: dec("98650.00"), Line: dec("98500.00"), From: dec("100000"),
			Used: dec("0.90")}),
		"trailing_breach": TrailingBreach(t0, "ACC2", RiskFacts{Equity: dec("48000.00"), Line: dec("48000.00"), From: dec("50000.00")}),
		"weekly_breach":   WeeklyBreach(t0, "ACC3", RiskFacts{Equity: dec("48999.50"), Line: dec("49000.00"), From: dec("50000.00")}),
		"blackout_flatten": BlackoutFlatten(t0, "ACC1", RiskFacts{Release: "CPI (February)",
			ReleaseAt: time.Date(2026, 3, 16, 10, 32, 0, 0, market.NewYork)}),
		"trailing_reset": TrailingReset(t0, "ACC2", "risk", "evaluation restarted with the firm"),
		"broker":         Broker(t0, "ACC2", Critical, "locked at broker", "locked at broker: liquidate-only since 2026-03-16T14:00:00Z; the broker refuses orders that add risk"),
	}
}

// wire turns a recorded chat.postMessage into stable, indented JSON.
func wire(t *testing.T, r fakeReq) []byte {
	t.Helper()
	var blocks any
	if err := json.Unmarshal([]byte(r.Form.Get("blocks")), &blocks); err != nil {
		t.Fatalf("blocks are not JSON: %v: %q", err, r.Form.Get("blocks"))
	}
	out, err := json.MarshalIndent(map[string]any{"path": r.Path, "channel": r.Form.Get("channel"),
		"text": r.Form.Get("text"), "blocks": blocks}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if intended)\n--- got\n%s", path, got)
	}
}

func webCfg(f *fakeSlack) Config {
	return Config{BotToken: "xoxb-secret-bot-token", Channel: "C0DESK", APIURL: f.apiURL(),
		BackoffBase: time.Millisecond, SweepEvery: 5 * time.Millisecond}
}

func TestGoldenPayloads(t *testing.T) {
	s := samples()
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			f := newFakeSlack(t)
			n := New(webCfg(f), newRecorder(), testLog(t), market.NewReplayClock(t0))
			run(t, n)
			n.Notify(s[name])
			r := f.next(t, 5*time.Second)
			if r.Path != "/api/chat.postMessage" || (r.Auth != "Bearer xoxb-secret-bot-token" && r.Form.Get("token") != "xoxb-secret-bot-token") {
				t.Fatalf("posted to %s with auth %q form %v", r.Path, r.Auth, r.Form)
			}
			golden(t, name, wire(t, r))
		})
	}
}

// Every kind has a sample (and so a golden file).
func TestEveryKindHasAGolden(t *testing.T) {
	have := map[Kind]bool{}
	for _, a := range samples() {
		have[a.Kind] = true
	}
	for _, k := range Kinds {
		if !have[k] {
			t.Errorf("kind %s has no sample/golden", k)
		}
	}
}

func TestKillAndLockoutCarryFlattenButtons(t *testing.T) {
	for _, a := range []Alert{samples()["kill_account"], samples()["lockout"]} {
		b, _ := json.Marshal(Render(a).Blocks)
		for _, id := range []string{ActionFlattenAccount, ActionFlattenDesk} {
			if !strings.Contains(string(b), `"action_id":"`+id+`"`) {
				t.Errorf("%s message lacks button %s", a.Kind, id)
			}
		}
	}
}

func TestWebhookGolden(t *testing.T) {
	f := newFakeSlack(t)
	cfg := Config{WebhookURL: Secret(f.srv.URL + "/hook/T000/B000/XXXXSECRET"), SweepEvery: 5 * time.Millisecond}
	n := New(cfg, newRecorder(), testLog(t), market.NewReplayClock(t0))
	if n.Mode() != ModeWebhook {
		t.Fatalf("mode %s", n.Mode())
	}
	run(t, n)
	n.Notify(samples()["lockout"])
	r := f.next(t, 5*time.Second)
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	golden(t, "webhook_lockout", append(out, '\n'))
}

func TestMoney(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"46", "$46.00"}, {"-50", "-$50.00"}, {"0", "$0.00"}, {"-0.001", "$0.00"}, {"1234567.891", "$1,234,567.89"},
		{"100000", "$100,000.00"}, {"-999.995", "-$1,000.00"}, {"0.5", "$0.50"},
	} {
		if got := Money(dec(c.in)); got != c.want {
			t.Errorf("Money(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := Percent(dec("0.0152")); got != "1.52%" {
		t.Errorf("Percent = %s", got)
	}
}

func TestRateLimitRetryAfterHonoured(t *testing.T) {
	f := newFakeSlack(t, status(http.StatusTooManyRequests, "1"))
	n := New(webCfg(f), newRecorder(), testLog(t), market.NewReplayClock(t0))
	done := outcomes(n)
	run(t, n)
	n.Notify(samples()["lockout"])
	first := f.next(t, 5*time.Second)
	second := f.next(t, 10*time.Second)
	if gap := second.At.Sub(first.At); gap < time.Second {
		t.Fatalf("retried after %v, Retry-After was 1s", gap)
	} else {
		t.Logf("retry gap %v (Retry-After 1s)", gap)
	}
	if o := waitOutcome(t, done); o.err != nil {
		t.Fatal(o.err)
	}
	if st := n.Stats(); st.Sent != 1 || st.Retries != 1 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

type outcome struct {
	a   Alert
	err error
}

// outcomes hooks the notifier: every message's final outcome arrives on the
// channel (set before Run starts).
func outcomes(n *Notifier) chan outcome {
	ch := make(chan outcome, 100000)
	n.afterDeliver = func(a Alert, err error) { ch <- outcome{a, err} }
	return ch
}

func waitOutcome(t *testing.T, ch chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery outcome")
		return outcome{}
	}
}

func TestServerErrorsRetried(t *testing.T) {
	f := newFakeSlack(t, status(500, ""), status(502, ""), status(429, "")) // 429 without Retry-After: backoff
	n := New(webCfg(f), newRecorder(), testLog(t), market.NewReplayClock(t0))
	done := outcomes(n)
	run(t, n)
	n.Notify(samples()["worker_crash"])
	for range 4 {
		f.next(t, 5*time.Second)
	}
	if o := waitOutcome(t, done); o.err != nil {
		t.Fatal(o.err)
	}
	if st := n.Stats(); st.Sent != 1 || st.Retries != 3 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	if n.Status() != "up" {
		t.Fatalf("status %s", n.Status())
	}
}

func TestGiveUpAfterBoundAndRecord(t *testing.T) {
	script := []func(http.ResponseWriter){status(500, ""), status(500, ""), status(500, ""), status(500, "")}
	f := newFakeSlack(t, script...)
	cfg := webCfg(f)
	cfg.MaxRetries = 2
	rec := newRecorder()
	n := New(cfg, rec, testLog(t), market.NewReplayClock(t0))
	run(t, n)
	n.Notify(samples()["kill"])
	for range 3 {
		f.next(t, 5*time.Second)
	}
	var fail recFail
	select {
	case fail = <-rec.failedCh:
	case <-time.After(5 * time.Second):
		t.Fatal("RecordAlertFailed not called")
	}
	if fail.Kind != "kill" || !strings.Contains(fail.Err.Error(), "500") {
		t.Fatalf("recorded %+v", fail)
	}
	if strings.Contains(fail.Err.Error(), "xoxb") {
		t.Fatalf("token in error: %v", fail.Err)
	}
	f.none(t, 50*time.Millisecond)
	if n.Status() != "failing" {
		t.Fatalf("status %s", n.Status())
	}
}

func TestPermanentErrorNotRetried(t *testing.T) {
	f := newFakeSlack(t, slackErr("channel_not_found"))
	rec := newRecorder()
	n := New(webCfg(f), rec, testLog(t), market.NewReplayClock(t0))
	run(t, n)
	n.Notify(samples()["lockout"])
	f.next(t, 5*time.Second)
	select {
	case fail := <-rec.failedCh:
		if !strings.Contains(fail.Err.Error(), "channel_not_found") {
			t.Fatalf("recorded %v", fail.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not recorded")
	}
	if st := n.Stats(); st.Retries != 0 {
		t.Fatalf("retried a permanent error: %+v", st)
	}
}

func TestWebhookErrorsNeverShowTheURL(t *testing.T) {
	f := newFakeSlack(t, status(404, ""))
	rec := newRecorder()
	url := f.srv.URL + "/services/T000/B000/XXXXSECRET"
	n := New(Config{WebhookURL: Secret(url)}, rec, testLog(t), market.NewReplayClock(t0))
	run(t, n)
	n.Notify(samples()["kill"])
	f.next(t, 5*time.Second)
	select {
	case fail := <-rec.failedCh:
		if strings.Contains(fail.Err.Error(), "XXXXSECRET") {
			t.Fatalf("webhook URL leaked: %v", fail.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not recorded")
	}
	// Unreachable host: the net error names the URL; it must be redacted too.
	rec2 := newRecorder()
	n2 := New(Config{WebhookURL: "http://127.0.0.1:1/services/XXXXSECRET", MaxRetries: -1}, rec2, testLog(t), market.NewReplayClock(t0))
	run(t, n2)
	n2.Notify(samples()["kill"])
	select {
	case fail := <-rec2.failedCh:
		if strings.Contains(fail.Err.Error(), "XXXXSECRET") {
			t.Fatalf("webhook URL leaked: %v", fail.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not recorded")
	}
}

func TestCoalesceFloods(t *testing.T) {
	f := newFakeSlack(t)
	clock := market.NewReplayClock(t0)
	cfg := webCfg(f)
	cfg.CoalesceWindow = 30 * time.Second
	n := New(cfg, newRecorder(), testLog(t), clock)
	run(t, n)
	for i := range 5 {
		clock.Advance(t0.Add(time.Duration(i) * time.Second).UnixNano())
		n.Notify(WorkerCrash(time.Time{}, "ACC1", fmt.Sprintf("crash %d", i)))
	}
	n.Notify(WorkerCrash(time.Time{}, "ACC2", "other account"))
	n.Notify(WorkerFault(time.Time{}, "ACC1", "other kind"))
	got := map[string]bool{}
	for range 3 {
		r := f.next(t, 5*time.Second)
		got[r.Form.Get("text")] = true
	}
	f.none(t, 30*time.Millisecond) // the window is still open: nothing else
	// Close the window: the latest crash goes out with its count.
	clock.Advance(t0.Add(31 * time.Second).UnixNano())
	r := f.next(t, 5*time.Second)
	text := r.Form.Get("text")
	if !strings.Contains(text, "(4 more since 10:31:02 ET)") || !strings.Contains(r.Form.Get("blocks"), "crash 4") {
		t.Fatalf("coalesced message %q / %s", text, r.Form.Get("blocks"))
	}
	st := n.Stats()
	if st.Coalesced != 4 || st.Notified != 7 {
		t.Fatalf("stats %+v", st)
	}
	golden(t, "coalesced", wire(t, r))
	// A new window starts with the next alert, sent at once.
	n.Notify(WorkerCrash(time.Time{}, "ACC1", "fresh"))
	if r := f.next(t, 5*time.Second); strings.Contains(r.Form.Get("text"), "more since") {
		t.Fatalf("fresh window carried a count: %s", r.Form.Get("text"))
	}
}

// With Run not started nothing drains: the queue fills deterministically.
func TestQueueFullDropsLowSeverityNeverKills(t *testing.T) {
	f := newFakeSlack(t)
	cfg := webCfg(f)
	cfg.QueueSize = 4
	cfg.CoalesceWindow = -1
	n := New(cfg, newRecorder(), testLog(t), market.NewReplayClock(t0))
	for i := range 10 {
		n.Notify(LinkBack(time.Time{}, fmt.Sprintf("data%d", i), time.Second))
		n.Notify(WorkerCrash(time.Time{}, fmt.Sprintf("ACC%d", i), "x"))
		n.Notify(Kill(time.Time{}, KillFacts{Scope: fmt.Sprintf("ACC%d", i), Trigger: "button", Who: "panic"}))
		n.Notify(Lockout(time.Time{}, fmt.Sprintf("ACC%d", i), LockoutFacts{}))
	}
	st := n.Stats()
	if st.Dropped != 16 || st.Queued != 24 {
		t.Fatalf("stats %+v", st)
	}
	run(t, n)
	kills, lockouts, others := 0, 0, 0
	for i := range 24 {
		r := f.next(t, 5*time.Second)
		text := r.Form.Get("text")
		switch {
		case strings.Contains(text, "KILL"):
			kills++
		case strings.Contains(text, "LOCKOUT"):
			lockouts++
		default:
			others++
			if i < 20 {
				t.Fatalf("a low-severity alert went before the critical ones (#%d: %s)", i, text)
			}
		}
	}
	if kills != 10 || lockouts != 10 || others != 4 {
		t.Fatalf("delivered kills %d lockouts %d others %d", kills, lockouts, others)
	}
}

func TestSlackOffLogsOnly(t *testing.T) {
	var buf syncBuffer
	log := slogTo(&buf)
	n := New(Config{}, newRecorder(), log, market.NewReplayClock(t0))
	if n.Mode() != ModeOff || n.Status() != "off" {
		t.Fatalf("mode %s status %s", n.Mode(), n.Status())
	}
	n.Notify(samples()["kill"])
	out := buf.String()
	if strings.Count(out, "slack off") != 1 || !strings.Contains(out, "KILL desk") {
		t.Fatalf("log:\n%s", out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
