// notifier.go: the Notifier — a non-blocking Notify, flood coalescing, a
// bounded queue for low-severity alerts and a never-dropped critical lane,
// and one delivery goroutine (Run) that posts with retries.

package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/deskguard/deskguard/market"
	"github.com/slack-go/slack"
)

// Recorder journals commands and delivery failures (the supervisor adapts
// its journal to it). Both calls must return quickly.
type Recorder interface {
	RecordCommand(user, command string, allowed bool, detail string)
	RecordAlertFailed(kind string, err error)
}

// Mode is how the notifier delivers.
type Mode string

// Delivery modes.
const (
	ModeOff     Mode = "off"     // no tokens: alerts go to the log only
	ModeWebAPI  Mode = "web_api" // chat.postMessage with the bot token
	ModeWebhook Mode = "webhook" // incoming webhook
)

// Stats counts what the notifier did since New.
type Stats struct {
	Notified  uint64 // Notify calls
	Coalesced uint64 // alerts folded into a window's "N more since"
	Dropped   uint64 // low-severity alerts dropped because the queue was full
	Sent      uint64 // messages Slack accepted
	Retries   uint64 // attempts after a first failure
	Failed    uint64 // messages given up on (RecordAlertFailed called)
	Queued    int    // waiting now (both lanes)
}

// Notifier posts alerts to Slack. Notify never blocks; Run delivers.
type Notifier struct {
	cfg   Config
	rec   Recorder
	log   *slog.Logger
	clock market.Clock
	mode  Mode
	send  func(ctx context.Context, m Message) error

	mu      sync.Mutex
	crit    []Alert // unbounded: never dropped (coalescing bounds it per key and window)
	normal  []Alert // bounded by cfg.QueueSize
	windows map[string]*window
	st      Stats
	failing bool
	wake    chan struct{}

	afterDeliver func(a Alert, err error) // tests: called after each message's outcome
}

type window struct {
	start  time.Time
	count  int
	latest Alert
}

// New builds a notifier. With neither a bot token and channel nor a webhook
// URL, Slack is off: every alert goes to the log, and New says so once.
func New(cfg Config, rec Recorder, log *slog.Logger, clock market.Clock) *Notifier {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = market.WallClock{}
	}
	if rec == nil {
		rec = nopRecorder{}
	}
	n := &Notifier{cfg: cfg, rec: rec, log: log, clock: clock, windows: map[string]*window{}, wake: make(chan struct{}, 1)}
	hc := &http.Client{Timeout: cfg.PostTimeout}
	switch {
	case cfg.BotToken.IsSet() && cfg.Channel != "":
		n.mode = ModeWebAPI
		api := slack.New(cfg.BotToken.Reveal(), apiOptions(cfg, hc)...)
		n.send = func(ctx context.Context, m Message) error {
			_, _, err := api.PostMessageContext(ctx, cfg.Channel, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
			return err
		}
	case cfg.WebhookURL.IsSet():
		n.mode = ModeWebhook
		url := cfg.WebhookURL.Reveal()
		n.send = func(ctx context.Context, m Message) error {
			err := slack.PostWebhookCustomHTTPContext(ctx, url, hc, &slack.WebhookMessage{Text: m.Text, Blocks: &slack.Blocks{BlockSet: m.Blocks}})
			return redact(err, url)
		}
	default:
		n.mode = ModeOff
		why := "no bot token+channel and no webhook URL"
		if cfg.BotToken.IsSet() {
			why = "bot token set but no channel"
		}
		log.Warn("slack off: alerts go to the log only", "why", why)
	}
	if n.mode != ModeOff {
		log.Info("slack alerts on", "mode", string(n.mode), "channel", cfg.Channel, "config", cfg)
	}
	return n
}

func apiOptions(cfg Config, hc *http.Client) []slack.Option {
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if cfg.APIURL != "" {
		u := cfg.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slack.OptionAPIURL(u))
	}
	if cfg.AppToken.IsSet() {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken.Reveal()))
	}
	return opts
}

type nopRecorder struct{}

func (nopRecorder) RecordCommand(string, string, bool, string) {}
func (nopRecorder) RecordAlertFailed(string, error)            {}

// Mode reports how alerts are delivered.
func (n *Notifier) Mode() Mode { return n.mode }

// Status is the link status for the console: "off", "up" or "failing".
func (n *Notifier) Status() string {
	if n.mode == ModeOff {
		return "off"
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failing {
		return "failing"
	}
	return "up"
}

// Stats returns the counters.
func (n *Notifier) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.st
	s.Queued = len(n.crit) + len(n.normal)
	return s
}

// key groups alerts for coalescing: same kind, account and severity (so a
// critical alert is never folded behind a low-severity one).
func key(a Alert) string { return string(a.Kind) + "|" + a.Account + "|" + a.Severity.String() }

// Notify hands an alert over. It never waits for Slack: it takes one short
// lock, and when the low-severity queue is full it drops the alert (counted);
// critical alerts (kills, lockouts, faults) are never dropped.
func (n *Notifier) Notify(a Alert) {
	now := n.clock.Now()
	if a.At.IsZero() {
		a.At = now
	}
	if n.mode == ModeOff {
		n.log.Log(context.Background(), level(a.Severity), "alert", "kind", string(a.Kind), "severity", a.Severity.String(),
			"account", a.Account, "text", RenderIn(a, n.cfg.Zone).Text, "detail", a.Detail)
		n.mu.Lock()
		n.st.Notified++
		n.mu.Unlock()
		return
	}
	n.mu.Lock()
	n.st.Notified++
	k := key(a)
	if w := n.windows[k]; w != nil {
		if n.cfg.CoalesceWindow > 0 && now.Before(w.start.Add(n.cfg.CoalesceWindow)) {
			w.count++
			w.latest = a
			n.st.Coalesced++
			n.mu.Unlock()
			return
		}
		n.closeWindowLocked(k, w)
	}
	if n.cfg.CoalesceWindow > 0 {
		n.windows[k] = &window{start: now}
	}
	n.enqueueLocked(a)
	n.mu.Unlock()
	n.poke()
}

func level(s Severity) slog.Level {
	switch s {
	case Critical:
		return slog.LevelError
	case Warning:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func (n *Notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// closeWindowLocked ends a coalescing window: if alerts were folded into it,
// the latest goes out with the count.
func (n *Notifier) closeWindowLocked(k string, w *window) {
	delete(n.windows, k)
	if w.count == 0 {
		return
	}
	a := w.latest
	a.Repeats = w.count
	a.Since = w.start
	n.enqueueLocked(a)
}

func (n *Notifier) enqueueLocked(a Alert) {
	if a.Severity >= Critical {
		n.crit = append(n.crit, a)
		return
	}
	if len(n.normal) >= n.cfg.QueueSize {
		n.st.Dropped++
		if d := n.st.Dropped; d == 1 || d == 10 || d == 100 || d%1000 == 0 {
			n.log.Warn("slack alert queue full: dropping low-severity alerts", "dropped", d, "kind", string(a.Kind))
		}
		return
	}
	n.normal = append(n.normal, a)
}

// sweep closes every window that has ended by now.
func (n *Notifier) sweep() {
	now := n.clock.Now()
	n.mu.Lock()
	for k, w := range n.windows {
		if !now.Before(w.start.Add(n.cfg.CoalesceWindow)) {
			n.closeWindowLocked(k, w)
		}
	}
	n.mu.Unlock()
}

// next takes the next alert to deliver, critical first.
func (n *Notifier) next() (Alert, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.crit) > 0 {
		a := n.crit[0]
		n.crit[0] = Alert{}
		n.crit = n.crit[1:]
		return a, true
	}
	if len(n.normal) > 0 {
		a := n.normal[0]
		n.normal[0] = Alert{}
		n.normal = n.normal[1:]
		return a, true
	}
	return Alert{}, false
}

// Run delivers queued alerts until ctx ends; run it once (a suture service
// fits). With Slack off it just waits. On return, alerts still queued are
// logged as undelivered.
func (n *Notifier) Run(ctx context.Context) error {
	if n.mode == ModeOff {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(n.cfg.SweepEvery)
	defer tick.Stop()
	for {
		n.sweep()
		for ctx.Err() == nil {
			a, ok := n.next()
			if !ok {
				break
			}
			n.deliverSafe(ctx, a)
		}
		select {
		case <-ctx.Done():
			n.sweep()
			for a, ok := n.next(); ok; a, ok = n.next() {
				n.log.Log(context.Background(), level(a.Severity), "slack alert not delivered: shutting down",
					"kind", string(a.Kind), "account", a.Account, "text", RenderIn(a, n.cfg.Zone).Text)
			}
			return nil
		case <-n.wake:
		case <-tick.C:
		}
	}
}

// deliverSafe keeps a panic in rendering or the client from ending Run.
func (n *Notifier) deliverSafe(ctx context.Context, a Alert) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("alerts: panic delivering %s: %v", a.Kind, r)
			n.log.Error("slack delivery panic", "err", err, "stack", string(debug.Stack()))
			n.fail(a, err)
		}
	}()
	n.deliver(ctx, a)
}

// deliver posts one alert, honouring 429 Retry-After and retrying transient
// errors with a doubling backoff, up to MaxRetries; then it gives up and
// records the failure.
func (n *Notifier) deliver(ctx context.Context, a Alert) {
	m := RenderIn(a, n.cfg.Zone)
	backoff := n.cfg.BackoffBase
	var err error
	for attempt := 0; ; attempt++ {
		err = n.send(ctx, m)
		if err == nil {
			n.mu.Lock()
			n.st.Sent++
			n.failing = false
			n.mu.Unlock()
			if n.afterDeliver != nil {
				n.afterDeliver(a, nil)
			}
			return
		}
		wait, retry := n.retryAfter(err, backoff)
		if !retry || attempt >= n.cfg.MaxRetries || ctx.Err() != nil {
			break
		}
		if wait == backoff {
			backoff = min(backoff*2, n.cfg.BackoffMax)
		}
		n.log.Debug("slack post failed; retrying", "kind", string(a.Kind), "attempt", attempt+1, "wait", wait, "err", err)
		n.mu.Lock()
		n.st.Retries++
		n.mu.Unlock()
		if n.wait(ctx, wait, a.Severity < Critical) {
			// A critical alert arrived while this one waited: it goes first,
			// this one goes back to the head of its lane.
			n.mu.Lock()
			n.normal = append([]Alert{a}, n.normal...)
			n.mu.Unlock()
			return
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (shutting down)", err)
			break
		}
	}
	n.fail(a, err)
}

// wait sleeps d or until ctx ends; when yield is set it returns true early
// if a critical alert is queued.
func (n *Notifier) wait(ctx context.Context, d time.Duration, yield bool) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		if yield {
			n.mu.Lock()
			crit := len(n.crit) > 0
			n.mu.Unlock()
			if crit {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return false
		case <-n.wake:
		}
	}
}

func (n *Notifier) fail(a Alert, err error) {
	n.mu.Lock()
	n.st.Failed++
	n.failing = true
	n.mu.Unlock()
	err = fmt.Errorf("alerts: posting %s to slack: %w", a.Kind, err)
	n.log.Error("slack alert not delivered", "kind", string(a.Kind), "account", a.Account, "err", err, "text", RenderIn(a, n.cfg.Zone).Text)
	n.rec.RecordAlertFailed(string(a.Kind), err)
	if n.afterDeliver != nil {
		n.afterDeliver(a, err)
	}
}

// retryAfter classifies a delivery error: how long to wait and whether to
// retry at all. A 429 waits its Retry-After (capped by MaxRetryAfter); 5xx,
// a 429 without the header, timeouts and network errors wait the backoff;
// Slack's own refusals (invalid_auth, channel_not_found, ...) and other 4xx
// are final.
func (n *Notifier) retryAfter(err error, backoff time.Duration) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		if rl.RetryAfter <= 0 {
			return backoff, true
		}
		return min(rl.RetryAfter, n.cfg.MaxRetryAfter), true
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return backoff, sc.Code >= 500 || sc.Code == http.StatusTooManyRequests
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited":
			return backoff, true
		}
		return 0, false
	}
	// Network errors, timeouts, a garbled body: transient until proven otherwise.
	return backoff, true
}

// redactedError hides a secret (the webhook URL) in an error's text while
// keeping the chain for errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, redacted)
		}
	}
	return &redactedError{msg: msg, err: err}
}
