// http.go: the HTTP endpoint variant of the commands — slash commands and
// button presses posted by Slack, verified with the signing secret, stale
// timestamps and replayed signatures refused.

package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/slack-go/slack"
)

// HTTPPath is where `deskguard run` serves HTTPHandler: on the console's
// server (its address, TLS and bind rules), outside the console's token
// checks. Slack's Request URL is https://HOST/slack/commands.
const HTTPPath = "/slack/commands"

// maxBody bounds what the endpoint reads: Slack's payloads are a few KB.
const maxBody = 64 << 10

// HTTPHandler serves Slack's slash-command and interactivity requests (mount
// it at the Request URL configured in the Slack app). Every request must
// carry a valid v0 signature made with the signing secret and a timestamp
// within 5 minutes; a signature seen before is refused as a replay. Refused
// requests get 401 and are logged, not journaled (they are not from Slack).
func (c *Commander) HTTPHandler() http.Handler {
	hc := &http.Client{Timeout: c.cfg.PostTimeout}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if !c.cfg.SigningSecret.IsSet() {
			http.Error(w, "slack commands off", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := c.verify(r.Header, body); err != nil {
			c.log.Warn("slack request refused", "err", err, "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if p := form.Get("payload"); p != "" {
			var cb slack.InteractionCallback
			if err := json.Unmarshal([]byte(p), &cb); err != nil {
				http.Error(w, "bad payload", http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusOK)
			c.interaction(r.Context(), hc, cb)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Form, r.PostForm = nil, nil
		cmd, err := slack.SlashCommandParse(r)
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		reply := c.Slash(r.Context(), cmd.UserID, cmd.Command, cmd.Text)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ephemeral(reply))
	})
}

// Errors the endpoint's verification returns (wrapped).
var (
	ErrReplay = errors.New("alerts: replayed slack request")
)

// verify checks the signature and the timestamp (slack.NewSecretsVerifier
// refuses more than 5 minutes of skew), then the replay cache.
func (c *Commander) verify(h http.Header, body []byte) error {
	sv, err := slack.NewSecretsVerifier(h, c.cfg.SigningSecret.Reveal())
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	if err := sv.Ensure(); err != nil {
		return err
	}
	if !c.replay.firstTime(h.Get("X-Slack-Signature")) {
		return ErrReplay
	}
	return nil
}

// replayCache remembers the last n signatures seen. A valid signature is only
// good for 5 minutes anyway, so n needs to cover 5 minutes of traffic; when
// full the oldest is forgotten.
type replayCache struct {
	mu   sync.Mutex
	seen map[string]struct{}
	ring []string
	next int
}

func newReplayCache(n int) *replayCache {
	return &replayCache{seen: make(map[string]struct{}, n), ring: make([]string, n)}
}

// firstTime records sig and reports whether it was new.
func (rc *replayCache) firstTime(sig string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if _, ok := rc.seen[sig]; ok {
		return false
	}
	if old := rc.ring[rc.next]; old != "" {
		delete(rc.seen, old)
	}
	rc.ring[rc.next] = sig
	rc.next = (rc.next + 1) % len(rc.ring)
	rc.seen[sig] = struct{}{}
	return true
}
