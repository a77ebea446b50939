package consoletest

// browser.go: the console's browser flow in real headless Chromium (driven
// by chromedp) against any deskapi.Desk: log in as the manager, watch every
// account update live, open an account, flatten the desk through the
// confirm dialog and see every account flat and the desk halted, then log
// in as a trader and see one account. Screenshots go to the artifacts dir.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
	// Wait bounds each wait in the page; default 30s.
	Wait time.Duration
	// Config is the console's config; Listen is forced to 127.0.0.1:0 and
	// StatusEvery defaults to 200ms.
	Config console.Config
	// Log receives the console's log (nil: discarded).
	Log *slog.Logger
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
		chromedp.WindowSize(1600, 1000),
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

func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.wait)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	path := filepath.Join(p.art, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	p.t.Logf("screenshot: %s", path)
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

const jsCards = `[...document.querySelectorAll('#accounts [data-account]')]`

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
	ctx := NewBrowser(t)
	base := Serve(t, f)
	p := &page{t: t, ctx: ctx, wait: f.Wait, art: ArtifactsDir(t)}

	// Manager: log in, every account shown.
	p.do("open the console", chromedp.Navigate(base+"/"))
	p.login(f.Manager)
	n := eval[int](p, "count accounts", jsCards+`.length`)
	if (f.Accounts > 0 && n != f.Accounts) || n == 0 {
		t.Fatalf("the manager sees %d accounts, want %d", n, f.Accounts)
	}

	// Live: every card's figures change without a reload.
	const jsFigures = jsCards + `.map(c => c.querySelector('.grid').textContent + '|' + c.querySelector('[data-field=drawdown]').textContent)`
	before := eval[[]string](p, "read figures", jsFigures)
	was, _ := json.Marshal(before)
	p.until("every account updates live", `(() => { const was = `+string(was)+`; const now = `+jsFigures+`;
		return now.length === was.length && now.every((v, i) => v !== was[i]); })()`)
	if eval[bool](p, "reload check", `performance.getEntriesByType('navigation').length !== 1`) {
		t.Fatal("the page reloaded")
	}

	// Account view: equity curve with the lockout line, economics, trips.
	p.do("open an account",
		chromedp.Click(chromedp.CSS("#accounts [data-account] .card-head .id")),
		chromedp.WaitVisible(chromedp.ID("account-view")),
	)
	p.until("equity curve and lockout line drawn", `!!document.querySelector('#equity-chart polyline.curve') &&
		!!document.querySelector('#equity-chart [data-line=lockout]') &&
		document.querySelectorAll('#economics tr').length > 1`)
	p.screenshot("console-account.png")
	p.do("back to the desk", chromedp.Click(chromedp.ID("back")), chromedp.WaitVisible(chromedp.ID("desk-view")))
	p.screenshot("console-desk.png")

	// Flatten the desk through the confirm dialog.
	p.do("flatten the desk",
		chromedp.Click(chromedp.ID("flatten-desk")),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		chromedp.WaitNotVisible(chromedp.ID("confirm-dialog")),
	)
	p.until("every account flat and the desk halted", `(() => { const cs = `+jsCards+`;
		return cs.length > 0 && cs.every(c => c.querySelector('[data-field=position]').textContent === 'flat') &&
			document.getElementById('desk-state').dataset.state === 'halted'; })()`)
	p.screenshot("console-desk-flattened.png")
	p.noScriptErrors()

	if f.Trader == "" {
		return
	}
	// A trader sees only its own account and no desk-wide buttons.
	p.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-token")))
	p.login(f.Trader)
	p.until("the trader's cards are rendered", jsCards+`.length > 0`)
	got := eval[[]string](p, "trader accounts", jsCards+`.map(c => c.dataset.account)`)
	if len(got) != 1 || got[0] != f.TraderAccount {
		t.Fatalf("the trader sees %v, want [%s]", got, f.TraderAccount)
	}
	hidden := eval[bool](p, "desk buttons", `['flatten-desk', 'rearm-desk', 'press-button'].every(id =>
		getComputedStyle(document.getElementById(id)).display === 'none')`)
	if !hidden {
		t.Error("a trader is offered desk-wide buttons")
	}
	p.screenshot("console-trader.png")
	p.noScriptErrors()
}

// noScriptErrors fails the test if the page recorded a script error.
func (p *page) noScriptErrors() {
	p.t.Helper()
	if errs := eval[[]string](p, "script errors", `window.deskguardErrors || ["app.js did not load"]`); len(errs) > 0 {
		p.t.Errorf("script errors in the page: %q", errs)
	}
}
