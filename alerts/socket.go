// socket.go: the Socket Mode client — connects with the app-level token,
// reconnects with backoff, and turns slash commands and button presses into
// Commander calls, acknowledging each envelope.

package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode serves /deskguard and the buttons over Socket Mode until ctx
// ends, reconnecting with a doubling backoff (1 s to 1 min) when the
// connection fails. Without an app token it returns ErrOff at once.
func (c *Commander) RunSocketMode(ctx context.Context) error {
	if !c.cfg.AppToken.IsSet() {
		c.log.Warn("slack socket mode off: no app token")
		return ErrOff
	}
	hc := &http.Client{Timeout: c.cfg.PostTimeout}
	backoff := time.Second
	for {
		api := slack.New(c.cfg.BotToken.Reveal(), apiOptions(c.cfg, hc)...)
		sm := socketmode.New(api, socketmode.OptionLog(slogWriter{c.log}))
		start := time.Now()
		err := c.runOnce(ctx, sm, hc)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		c.log.Warn("slack socket mode disconnected; reconnecting", "err", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, time.Minute)
	}
}

func (c *Commander) runOnce(ctx context.Context, sm *socketmode.Client, hc *http.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- sm.RunContext(ctx) }()
	for {
		select {
		case err := <-runErr:
			return err
		case ev := <-sm.Events:
			// Each envelope on its own goroutine: a slow Flatten never holds
			// up the next command or the acks.
			go c.handleEvent(ctx, sm, hc, ev)
		}
	}
}

func (c *Commander) handleEvent(ctx context.Context, sm *socketmode.Client, hc *http.Client, ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeConnected:
		c.log.Info("slack socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
		c.log.Warn("slack socket mode", "event", string(ev.Type), "detail", fmt.Sprint(ev.Data))
	case socketmode.EventTypeSlashCommand:
		cmd, ok := ev.Data.(slack.SlashCommand)
		if !ok || ev.Request == nil {
			return
		}
		r := c.Slash(ctx, cmd.UserID, cmd.Command, cmd.Text)
		if err := sm.Ack(*ev.Request, ephemeral(r)); err != nil {
			c.log.Warn("slack ack failed", "err", err)
		}
	case socketmode.EventTypeInteractive:
		cb, ok := ev.Data.(slack.InteractionCallback)
		if !ok || ev.Request == nil {
			return
		}
		// Ack first (Slack wants it within 3 s), then act and answer on the
		// response URL.
		if err := sm.Ack(*ev.Request); err != nil {
			c.log.Warn("slack ack failed", "err", err)
		}
		c.interaction(ctx, hc, cb)
	default:
		if ev.Request != nil && ev.Request.EnvelopeID != "" {
			_ = sm.Ack(*ev.Request)
		}
	}
}

// interaction handles block_actions: each flatten button pressed.
func (c *Commander) interaction(ctx context.Context, hc *http.Client, cb slack.InteractionCallback) {
	if cb.Type != slack.InteractionTypeBlockActions {
		return
	}
	for _, act := range cb.ActionCallback.BlockActions {
		if act == nil {
			continue
		}
		r := c.Action(ctx, cb.User.ID, act.ActionID, act.Value)
		c.respond(hc, cb.ResponseURL, r)
	}
}

// respond posts an ephemeral reply to a response URL, in the background.
func (c *Commander) respond(hc *http.Client, url string, r Reply) {
	if url == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.PostTimeout)
		defer cancel()
		msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: r.Text, Blocks: &slack.Blocks{BlockSet: r.Blocks}}
		if err := slack.PostWebhookCustomHTTPContext(ctx, url, hc, msg); err != nil {
			c.log.Warn("slack reply failed", "err", redact(err, url))
		}
	}()
}

func ephemeral(r Reply) map[string]any {
	return map[string]any{"response_type": slack.ResponseTypeEphemeral, "text": r.Text, "blocks": r.Blocks}
}

// slogWriter lets socketmode's logger write to slog at debug level.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Output(_ int, s string) error {
	w.log.Debug("slack socketmode", "msg", strings.TrimSpace(s))
	return nil
}
