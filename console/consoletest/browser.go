package consoletest

// browser.go: the console's browser flow in real headless Chromium (driven
// by chromedp) against any deskapi.Desk, at 1920×1080 by default: log in as
// the manager; see every account's row on one screen, sorted by allowance
// used, each with its risk usage (ladder, trades, nearest rule); watch
// every row update live; see the journal tail, the fills blotter and the
// rejection counts show records (and hand them to the caller to check
// against the desk's own); with the desk's figures held (Flow.Hold), see
// the rows in the order, and coloured as, the desk's own Status gives
// (heldRisk, RiskLevel); see a position near its stop
// show its loss at stop; open an account; flatten the desk through the
// confirm dialog and see every account flat, the desk halted and the
// actions follow (re-arm offered, no engines to start); then log in as a
// trader and see one account. A screenshot of each view (the viewport, as
// a person sees it: the desk grid, the journal/blotter panels, an
// account, the flattened desk, the trader's view) goes to the artifacts
// dir ($DESKGUARD_ARTIFACTS — .ci/run sets it — else a temporary
// directory of the test, deleted with it).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/deskapi"
)

// Flow is what RunBrowserFlow needs.
type Flow struct {
	Desk   deskapi.Desk // required; must be running (its figures moving)
	Tokens *auth.Tokens // required
	// Manager is a manager's plaintext token (required).
	Manager string
	// Trader is a trader's plaintext token and TraderAccount its account
	// ("" skips the trader part).
	Trader, TraderAccount string
	// Accounts is how many accounts the manager must see (0: at least one).
	Accounts int
	// Width and Height are the browser's viewport (default 1920×1080):
	// every account's row must fit in it, without scrolling either way.
	Width, Height int64
	// NearStop names an account holding a position whose row must show
	// its loss at stop (the desk's own figure, as money) and the equity it
	// would leave ("" skips the check).
	NearStop string
	// Records, when set, requires the journal tail, the fills blotter and
	// the rejection counts to show at least one line each, and is then
	// given what they show, so the caller can check it against the desk's
	// own records (the real journal). Nil: those panels are not checked.
	Records func(t *testing.T, r PageRecords)
	// ResetTrailing names an account whose trailing line is breached: the
	// flow resets it from its row (the button, the reason, the confirm)
	// with the reason ResetReason and waits for the console to say it is
	// done ("" skips it; the caller checks the desk saw it).
	ResetTrailing string
	// Kills requires the flow's own desk kill to be listed in the kills
	// panel (the desk reports its kills in Status.Kills).
	Kills bool
	// Hold, when set, is called once every row has been seen updating
	// live and before the near-stop check (a real desk's test stops its
	// market there and moves a stop next to it); the func it returns is
	// called after the desk view's screenshots, before the flatten. While
	// held the desk's figures stay put, so the flow then checks the grid
	// against the desk's own Status: the page shows those figures, the
	// rows are in the order they give (allowance used, then the nearest
	// rule's use, then id) and each row's colour (data-risk) is the one
	// they give by app.js's thresholds (riskLevel).
	Hold func(t *testing.T) (release func())
	// RiskSpread (with Hold) requires the held figures to make the order
	// and the colours mean something: at least two accounts showing
	// different non-zero allowance used, at least one amber or red by its
	// allowance used (50% or more), and at least one row "ok".
	RiskSpread bool
	// Wait bounds each wait in the page; default 30s.
	Wait time.Duration
	// Config is the console's config; Listen is forced to 127.0.0.1:0 and
	// StatusEvery defaults to 200ms.
	Config console.Config
	// Log receives the console's log (nil: discarded).
	Log *slog.Logger
}

// ResetReason is the reason the flow gives a trailing line's reset.
const ResetReason = "browser flow: evaluation restarted"

// PageRecords is what the desk view shows below the grid.
type PageRecords struct {
	Journal    []PageJournalLine `json:"journal"`
	Fills      []PageFill        `json:"fills"`
	Rejections map[string]int    `json:"rejections"`
}

// PageJournalLine is one line of the journal panel.
type PageJournalLine struct {
	Seq  uint64 `json:"seq"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// PageFill is one row of the blotter.
type PageFill struct {
	Seq     uint64 `json:"seq"`
	Account string `json:"account"`
	Side    string `json:"side"`
	Qty     int64  `json:"qty"`
	Price   string `json:"price"`
}

// Chromium returns the Chromium binary ($CHROMIUM, chromium,
// chromium-browser). Without one the test is skipped with a message, or
// fails when $CI is set.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "chromium is not installed (apt-get install -y chromium, or set $CHROMIUM): browser test not run"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this is a failure")
	}
	t.Skip(msg)
	return ""
}

// ArtifactsDir is $DESKGUARD_ARTIFACTS (created if needed) or a temporary
// directory of the test.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("DESKGUARD_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("artifacts dir: %v", err)
		}
		return d
	}
	return t.TempDir()
}

// NewBrowser starts headless Chromium with a throwaway profile and returns
// a chromedp context for one tab; it is closed when the test ends.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	path := Chromium(t)
	profile, err := os.MkdirTemp("", "deskguard-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1920, 1080),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(func(string, ...any) {}))
	t.Cleanup(func() {
		cancel()
		acancel()
		_ = os.RemoveAll(profile)
	})
	// Start the browser on ctx itself: a browser first started under a
	// derived (timeout) context would die with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

// page drives one tab with a per-step deadline.
type page struct {
	t    *testing.T
	ctx  context.Context
	wait time.Duration
	art  string
}

func (p *page) do(what string, acts ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.wait)
	defer cancel()
	if err := chromedp.Do(ctx, acts...); err != nil {
		p.t.Fatalf("browser: %s: %v", what, err)
	}
}

// until waits for a JavaScript expression to be truthy.
func (p *page) until(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.wait+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[any](expr, chromedp.WithPollingTimeout(p.wait), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.t.Fatalf("browser: %s: %v", what, err)
	}
}

func eval[T any](p *page, what, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// screenshot saves what the viewport shows (one screen, as a person sees
// it) under the artifacts dir.
func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.wait)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	path := filepath.Join(p.art, artifactName(p.t.Name(), name))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	p.t.Logf("screenshot: %s", path)
}

// artifactName prefixes a screenshot's name with the test's, so tests
// sharing an artifacts dir keep each other's files.
func artifactName(test, name string) string {
	b := []byte(test)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b) + "-" + name
}

func (p *page) login(token string) {
	p.t.Helper()
	p.do("log in",
		chromedp.WaitVisible(chromedp.ID("login-token")),
		chromedp.SendKeys(chromedp.ID("login-token"), token),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#accounts [data-account]")),
	)
}

const jsRows = `[...document.querySelectorAll('#accounts tr[data-account]')]`

// Serve starts a console for f on a loopback port until the test ends and
// returns its base URL.
func Serve(t testing.TB, f Flow) string {
	t.Helper()
	cfg := f.Config
	cfg.Listen = "127.0.0.1:0"
	if cfg.StatusEvery == 0 {
		cfg.StatusEvery = 200 * time.Millisecond
	}
	srv, err := console.New(cfg, f.Desk, f.Tokens, f.Log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("console: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// RunBrowserFlow runs the console's browser flow against f.Desk. It
// flattens the desk: give it a desk that may be flattened.
func RunBrowserFlow(t *testing.T, f Flow) {
	t.Helper()
	if f.Desk == nil || f.Tokens == nil || f.Manager == "" {
		t.Fatal("consoletest: Flow needs Desk, Tokens and Manager")
	}
	if f.Wait == 0 {
		f.Wait = 30 * time.Second
	}
	if f.Width == 0 || f.Height == 0 {
		f.Width, f.Height = 1920, 1080
	}
	ctx := NewBrowser(t)
	base := Serve(t, f)
	p := &page{t: t, ctx: ctx, wait: f.Wait, art: ArtifactsDir(t)}

	// Manager: log in, every account shown.
	p.do("open the console", chromedp.EmulateViewport(f.Width, f.Height), chromedp.Navigate(base+"/"))
	p.login(f.Manager)
	if f.Accounts > 0 {
		p.until(fmt.Sprintf("%d account rows", f.Accounts), fmt.Sprintf(jsRows+`.length === %d`, f.Accounts))
	}
	n := eval[int](p, "count accounts", jsRows+`.length`)
	if (f.Accounts > 0 && n != f.Accounts) || n == 0 {
		t.Fatalf("the manager sees %d accounts, want %d", n, f.Accounts)
	}

	// One screen: every row inside the viewport, nothing wider than it.
	fit := eval[struct {
		W, H, ScrollW int64
		Outside       []string
	}](p, "rows on one screen", `(() => ({ w: innerWidth, h: innerHeight, scrollw: document.documentElement.scrollWidth,
		outside: `+jsRows+`.filter(r => { const b = r.getBoundingClientRect(); return b.top < 0 || b.bottom > innerHeight || b.right > innerWidth; })
			.map(r => r.dataset.account) }))()`)
	if fit.W != f.Width || fit.H != f.Height {
		t.Fatalf("viewport %d×%d, want %d×%d", fit.W, fit.H, f.Width, f.Height)
	}
	if len(fit.Outside) > 0 || fit.ScrollW > fit.W {
		t.Fatalf("at %d×%d the rows of %v are off the screen (page %dpx wide)", fit.W, fit.H, fit.Outside, fit.ScrollW)
	}

	// Sorted by risk: allowance used, then the nearest rule's use, as the
	// status the page rendered has them.
	order := eval[[]struct {
		ID      string  `json:"id"`
		Used    float64 `json:"used"`
		Nearest float64 `json:"nearest"`
	}](p, "row order", jsRows+`.map(r => { const a = S.status.accounts.find(x => x.id === r.dataset.account);
		return { id: a.id, used: a.drawdown_used || 0, nearest: a.risk ? (a.risk.nearest_bp || 0) / 10000 : 0 }; })`)
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if a.Used < b.Used || (a.Used == b.Used && a.Nearest < b.Nearest) {
			t.Fatalf("rows not sorted by allowance used: %s (%.4f, nearest %.4f) above %s (%.4f, nearest %.4f)",
				a.ID, a.Used, a.Nearest, b.ID, b.Used, b.Nearest)
		}
	}

	// Risk usage in every row, as the status the page rendered has it:
	// the ladder's rung, the trades against the limit, the nearest rule
	// and what is left before it (the desk's one answer, limits' Usage).
	if bad := eval[[]string](p, "risk usage shown", jsRows+`.filter(r => {
		const a = S.status.accounts.find(x => x.id === r.dataset.account), q = (f) => r.querySelector('[data-field="' + f + '"]').textContent;
		if (!a.risk || !a.risk.nearest_rule) return true;
		const lv = r.querySelector('[data-field="level"] [data-level]');
		return !lv || lv.dataset.level !== a.risk.level ||
			q('trades') !== String(a.risk.trades_today || 0) + (a.risk.trade_limit ? '/' + a.risk.trade_limit : '') ||
			!q('nearest').startsWith(a.risk.nearest_rule.replace(/_/g, ' ') + (a.risk.nearest_left ? ': ' + a.risk.nearest_left : ''));
	}).map(r => r.dataset.account)`); len(bad) > 0 {
		t.Fatalf("the rows of %v do not show their risk usage (ladder, trades, nearest rule) as the desk has it", bad)
	}

	// Reset trailing is offered (to the manager) on exactly the rows whose
	// trailing line is breached.
	if bad := eval[[]string](p, "reset trailing offered", jsRows+`.filter(r => {
		const a = S.status.accounts.find(x => x.id === r.dataset.account);
		const shown = !r.querySelector('[data-action="reset-trailing"]').classList.contains('hidden');
		return shown !== !!(a.risk && a.risk.trailing_breached);
	}).map(r => r.dataset.account)`); len(bad) > 0 {
		t.Fatalf("Reset trailing offered where the trailing line is not breached, or not where it is: %v", bad)
	}
	if id := f.ResetTrailing; id != "" {
		row := `#accounts tr[data-account="` + id + `"]`
		p.do("reset the trailing line of "+id,
			chromedp.Click(chromedp.CSS(row+` [data-action="reset-trailing"]`)),
			chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
			chromedp.SendKeys(chromedp.ID("reason-input"), ResetReason),
			chromedp.Click(chromedp.ID("confirm-ok")),
			chromedp.WaitNotVisible(chromedp.ID("confirm-dialog")),
		)
		p.until("the reset of "+id+" done", `document.getElementById('action-msg').textContent === 'Reset trailing `+id+`: done'`)
	}

	// Live: every row's figures change without a reload.
	const jsFigures = `Object.fromEntries(` + jsRows + `.map(r => [r.dataset.account, r.textContent]))`
	before := eval[map[string]string](p, "read figures", jsFigures)
	was, _ := json.Marshal(before)
	p.until("every account updates live", `(() => { const was = `+string(was)+`; const now = `+jsFigures+`;
		const ks = Object.keys(was); return ks.length === Object.keys(now).length && ks.every(k => now[k] !== undefined && now[k] !== was[k]); })()`)
	if eval[bool](p, "reload check", `performance.getEntriesByType('navigation').length !== 1`) {
		t.Fatal("the page reloaded")
	}

	// Times: one zone, labelled.
	zone := eval[string](p, "zone label", `document.getElementById('desk-zone').dataset.zone`)
	if zone == "" || !strings.Contains(eval[string](p, "zone text", `document.getElementById('desk-zone').textContent`), zone) {
		t.Errorf("the page does not say which zone its times are in (%q)", zone)
	}

	// A running desk: flatten is the primary action; no re-arm unless an
	// account is halted.
	if st := f.Desk.Status(context.Background()); st.State == "running" {
		prim := eval[string](p, "flatten styling", `document.getElementById('flatten-desk').dataset.primary`)
		anyHalted := false
		for _, a := range st.Accounts {
			anyHalted = anyHalted || a.State == "halted"
		}
		rearm := eval[bool](p, "rearm shown", `getComputedStyle(document.getElementById('rearm-desk')).display !== 'none'`)
		if prim != "true" || (rearm && !anyHalted) {
			t.Errorf("running desk: flatten primary %q, re-arm offered %v", prim, rearm)
		}
	}

	// Journal tail, blotter, rejection counts: real lines.
	if f.Records != nil {
		p.records(f.Records)
	}

	release := func() {}
	if f.Hold != nil {
		release = f.Hold(t)
		p.heldRisk(f)
	}
	// The position near its stop shows its loss at stop, as the desk has it.
	if f.NearStop != "" {
		var want deskapi.AccountStatus
		for _, a := range f.Desk.Status(context.Background()).Accounts {
			if a.ID == f.NearStop {
				want = a
			}
		}
		if want.Position == 0 || want.LossAtStop == "" {
			t.Fatalf("account %s: position %d, loss at stop %q: not a position with a stop", f.NearStop, want.Position, want.LossAtStop)
		}
		// The desk's own figures now (a real desk's test holds its market
		// in Hold, so they stay put), as the page formats money.
		sel := `document.querySelector('#accounts tr[data-account="` + f.NearStop + `"]')`
		wantJS, _ := json.Marshal([]string{want.LossAtStop, want.EquityAtStop})
		p.until("loss at stop of "+f.NearStop+" shown as the desk has it ("+want.LossAtStop+", equity "+want.EquityAtStop+")",
			`(() => { const r = `+sel+`; if (!r) return false; const w = `+string(wantJS)+`;
			return r.querySelector('[data-field="loss-at-stop"]').textContent === money(cents(w[0])) &&
				r.querySelector('[data-field="equity-at-stop"]').textContent === money(cents(w[1])); })()`)
		shown := eval[[]string](p, "loss at stop text", `[`+sel+`.querySelector('[data-field="loss-at-stop"]').textContent, `+
			sel+`.querySelector('[data-field="equity-at-stop"]').textContent, `+sel+`.dataset.risk]`)
		t.Logf("%s near its stop: loss at stop %s, equity at stop %s (row %s)", f.NearStop, shown[0], shown[1], shown[2])
	}
	p.screenshot("console-desk.png")
	// The journal tail, the blotter and the rejection counts, scrolled
	// into view (below the grid on a 20-account desk).
	p.do("scroll to the journal", chromedp.ScrollIntoView(chromedp.ID("journal")))
	p.screenshot("console-journal.png")
	p.do("scroll back", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	release()

	// Account view: a card, the equity curve with the lockout line, economics.
	p.do("open an account",
		chromedp.Click(chromedp.CSS("#accounts tr[data-account] a.id")),
		chromedp.WaitVisible(chromedp.ID("account-view")),
	)
	p.until("equity curve and lockout line drawn", `!!document.querySelector('#account-detail [data-card]') &&
		!!document.querySelector('#equity-chart polyline.curve') &&
		!!document.querySelector('#equity-chart [data-line=lockout]') &&
		document.querySelectorAll('#economics tr').length > 1`)
	p.screenshot("console-account.png")
	p.do("back to the desk", chromedp.Click(chromedp.ID("back")), chromedp.WaitVisible(chromedp.ID("desk-view")))

	// Flatten the desk through the confirm dialog.
	p.do("flatten the desk",
		chromedp.Click(chromedp.ID("flatten-desk")),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		chromedp.WaitNotVisible(chromedp.ID("confirm-dialog")),
	)
	p.until("every account flat and the desk halted", `(() => { const rs = `+jsRows+`;
		return rs.length > 0 && rs.every(r => r.querySelector('[data-field=position]').textContent === 'flat') &&
			document.getElementById('desk-state').dataset.state === 'halted'; })()`)
	// A halted desk: re-arm is the primary action, flatten no longer is, and
	// nobody is offered to start engines.
	p.until("actions follow the halted state", `document.getElementById('flatten-desk').dataset.primary === 'false' &&
		getComputedStyle(document.getElementById('rearm-desk')).display !== 'none' &&
		`+jsRows+`.every(r => r.querySelector('[data-action=engines]').classList.contains('hidden') ||
			r.querySelector('[data-action=engines]').textContent === 'Stop')`)
	if f.Kills {
		p.until("the kill is listed", `[...document.querySelectorAll('#kills tr[data-kill]')].some(tr => tr.dataset.kill === 'desk')`)
	}
	p.screenshot("console-desk-flattened.png")
	p.noScriptErrors()

	if f.Trader == "" {
		return
	}
	// A trader sees only its own account and no desk-wide buttons.
	p.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-token")))
	p.login(f.Trader)
	p.until("the trader's rows are rendered", jsRows+`.length > 0`)
	got := eval[[]string](p, "trader accounts", jsRows+`.map(r => r.dataset.account)`)
	if len(got) != 1 || got[0] != f.TraderAccount {
		t.Fatalf("the trader sees %v, want [%s]", got, f.TraderAccount)
	}
	hidden := eval[bool](p, "desk buttons", `['flatten-desk', 'rearm-desk', 'press-button'].every(id =>
		getComputedStyle(document.getElementById(id)).display === 'none')`)
	if !hidden {
		t.Error("a trader is offered desk-wide buttons")
	}
	if eval[bool](p, "trader start on halted desk", jsRows+`.some(r => { const b = r.querySelector('[data-action=engines]');
		return !b.classList.contains('hidden') && b.textContent === 'Start'; })`) {
		t.Error("a trader is offered Start engines while the desk is halted")
	}
	p.screenshot("console-trader.png")
	p.noScriptErrors()
}

// records waits for the journal tail, the blotter and the rejection
// counts to show lines and hands what they show to check.
func (p *page) records(check func(*testing.T, PageRecords)) {
	p.t.Helper()
	p.until("journal, blotter and rejections show records", `document.querySelectorAll('#journal-list li[data-seq]').length > 0 &&
		document.querySelectorAll('#blotter tr[data-fill]').length > 0 && document.querySelectorAll('#rejections tr[data-reason]').length > 0`)
	recs := eval[PageRecords](p, "page records", `({
		journal: [...document.querySelectorAll('#journal-list li[data-seq]')].map(li => ({ seq: +li.dataset.seq, kind: li.dataset.kind, text: li.textContent })),
		fills: [...document.querySelectorAll('#blotter tr[data-fill]')].map(tr => ({ seq: +tr.dataset.fill, account: tr.children[1].textContent,
			side: tr.children[4].textContent, qty: +tr.children[5].textContent, price: tr.children[6].textContent })),
		rejections: Object.fromEntries([...document.querySelectorAll('#rejections tr[data-reason]')].map(tr => [tr.dataset.reason, +tr.children[1].textContent])),
	})`)
	check(p.t, recs)
}

// noScriptErrors fails the test if the page recorded a script error.
func (p *page) noScriptErrors() {
	p.t.Helper()
	if errs := eval[[]string](p, "script errors", `window.deskguardErrors || ["app.js did not load"]`); len(errs) > 0 {
		p.t.Errorf("script errors in the page: %q", errs)
	}
}

// heldRisk checks the grid against the desk's own Status while the
// desk's figures are held (Flow.Hold): it waits until the page shows them,
// then requires the rows in the order those figures give (riskOrder) and
// each row's colour as they give it (riskLevel); with Flow.RiskSpread the
// figures must also spread (see Flow).
func (p *page) heldRisk(f Flow) {
	p.t.Helper()
	st := f.Desk.Status(context.Background())
	type fig struct {
		ID      string  `json:"id"`
		Used    float64 `json:"used"`
		Nearest int64   `json:"nearest_bp"`
		Level   string  `json:"level"`
		State   string  `json:"state"`
		Pos     int64   `json:"position"`
		Covered bool    `json:"covered"`
	}
	want := make([]fig, 0, len(st.Accounts))
	for _, a := range st.Accounts {
		g := fig{ID: a.ID, Used: a.DrawdownUsed, State: a.State, Pos: a.Position, Covered: a.StopCovered}
		if a.Risk != nil {
			g.Nearest, g.Level = a.Risk.NearestBP, a.Risk.Level
		}
		want = append(want, g)
	}
	wantJS, _ := json.Marshal(want)
	p.until("the page shows the desk's held figures", `(() => { const w = `+string(wantJS)+`; const as = (S.status && S.status.accounts) || [];
		return as.length === w.length && w.every(g => { const a = as.find(x => x.id === g.id); return !!a &&
			(a.drawdown_used || 0) === g.used && ((a.risk && a.risk.nearest_bp) || 0) === g.nearest_bp &&
			((a.risk && a.risk.level) || "") === g.level && a.state === g.state && (a.position || 0) === g.position &&
			!!a.stop_covered === g.covered; }); })()`)
	got := eval[[]struct {
		ID   string `json:"id"`
		Risk string `json:"risk"`
		Used string `json:"used"`
	}](p, "rows as shown", jsRows+`.map(r => ({ id: r.dataset.account, risk: r.dataset.risk, used: r.querySelector('[data-field="used"] .used').textContent }))`)

	accts := slices.Clone(st.Accounts)
	slices.SortStableFunc(accts, riskOrder)
	if len(got) != len(accts) {
		p.t.Fatalf("held desk: the page shows %d rows, the desk has %d accounts", len(got), len(accts))
	}
	var bad []string
	shownUsed := map[string]bool{}
	amber, ok := 0, 0
	for i, a := range accts {
		lv, pc := RiskLevel(a), pct(a.DrawdownUsed)
		if got[i].ID != a.ID || got[i].Risk != lv || got[i].Used != pc {
			bad = append(bad, fmt.Sprintf("row %d: the page %s %s %s, the desk's figures %s %s %s (used %.4f, nearest %dbp, %s, %s)",
				i+1, got[i].ID, got[i].Risk, got[i].Used, a.ID, lv, pc, a.DrawdownUsed, nearestBP(a), levelOf(a), a.State))
		}
		if pc != "0%" {
			shownUsed[pc] = true
		}
		if a.DrawdownUsed >= 0.5 && lv != "ok" {
			amber++
		}
		if lv == "ok" {
			ok++
		}
	}
	if len(bad) > 0 {
		p.t.Fatalf("held desk: the grid is not the desk's own figures, in their risk order, coloured by them:\n%s", strings.Join(bad, "\n"))
	}
	if f.RiskSpread && (len(shownUsed) < 2 || amber < 1 || ok < 1) {
		p.t.Fatalf("held desk: the figures do not test the order or the colours: %d different non-zero allowances used shown (%v), %d rows amber or red by their allowance, %d ok; want at least 2, 1, 1",
			len(shownUsed), shownUsed, amber, ok)
	}
	var line []string
	for i, a := range accts {
		line = append(line, fmt.Sprintf("%s %s %s", a.ID, got[i].Used, got[i].Risk))
	}
	p.t.Logf("held desk, in the desk's risk order: %s", strings.Join(line, ", "))
}

// riskOrder is app.js's riskOrder over the desk's figures: allowance used
// (highest first), then the nearest rule's use, then id.
func riskOrder(a, b deskapi.AccountStatus) int {
	if du := b.DrawdownUsed - a.DrawdownUsed; math.Abs(du) > 1e-9 {
		return cmpSign(du)
	}
	if nu := float64(nearestBP(b)-nearestBP(a)) / 10000; math.Abs(nu) > 1e-9 {
		return cmpSign(nu)
	}
	return strings.Compare(a.ID, b.ID)
}

func cmpSign(f float64) int {
	if f > 0 {
		return 1
	}
	return -1
}

// RiskLevel is the colour app.js gives an account's row from the desk's
// figures ("bad" red, "warn" amber, "ok"): the allowance or the nearest
// rule 80% used, the ladder at reduce-only or locked out, an uncovered
// position, or a locked-out, halting or faulted account is red; 50% used,
// the ladder's warning or a halted account amber. An independent copy of
// app.js's riskLevel, so a change to either shows.
func RiskLevel(a deskapi.AccountStatus) string {
	used := max(a.DrawdownUsed, float64(nearestBP(a))/10000)
	lv := levelOf(a)
	uncovered := a.Position != 0 && !a.StopCovered
	switch {
	case used >= 0.8 || lv == "reduce_only" || lv == "locked_out" || uncovered ||
		a.State == "locked_out" || a.State == "halting" || a.State == "faulted":
		return "bad"
	case used >= 0.5 || lv == "warning" || a.State == "halted":
		return "warn"
	}
	return "ok"
}

func nearestBP(a deskapi.AccountStatus) int64 {
	if a.Risk == nil {
		return 0
	}
	return a.Risk.NearestBP
}

func levelOf(a deskapi.AccountStatus) string {
	if a.Risk == nil {
		return ""
	}
	return a.Risk.Level
}

// pct is app.js's pct: a share as a whole percent, never below 0%.
func pct(f float64) string { return fmt.Sprintf("%d%%", int64(math.Floor(max(0, f)*100+0.5))) }
