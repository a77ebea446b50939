// http.go: the HTTP endpoint variant of the commands — slash commands and
// button presses posted by Slack, verified with the signing secret, stale
// timestamps and replayed signatures refused.

package alerts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskguard/deskguard/market"
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
// within 5 minutes; a signature seen before (in any letter case) within its
// window is refused as a replay. Refused
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
	// ErrReplayCacheFull: the cache holds ReplayCache signatures that are
	// all still inside their 5-minute window. Forgetting one would let it
	// be replayed, so the request is refused instead (Slack does not send
	// thousands of commands in 5 minutes; a flood of validly signed ones
	// is itself an attack).
	ErrReplayCacheFull = errors.New("alerts: replay cache full of live signatures")
)

// replayWindow is how long a signed request stays valid: Slack's rule is to
// refuse a timestamp more than five minutes from the local clock
// (https://api.slack.com/authentication/verifying-requests-from-slack), and
// slack.NewSecretsVerifier does exactly that.
const replayWindow = 5 * time.Minute

// verify checks the signature and the timestamp (slack.NewSecretsVerifier
// refuses more than 5 minutes of skew), then the replay cache, keyed on
// the decoded MAC: the verifier accepts the hex in any letter case, so the
// header's text would give one captured request 2^(hex letters) spellings.
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
	// Both parse: the verifier has just checked them.
	mac, err := hex.DecodeString(strings.TrimPrefix(h.Get("X-Slack-Signature"), "v0="))
	if err != nil || len(mac) != sha256.Size {
		return slack.ErrInvalidSignature
	}
	ts, err := strconv.ParseInt(h.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil {
		return err
	}
	return c.replay.firstTime([sha256.Size]byte(mac), time.Unix(ts, 0))
}

// replayCache remembers every signature (the decoded MAC) until the end of
// its window, its request's timestamp plus five minutes: after that the
// verifier refuses the request anyway. It holds at most n; when it is full
// of signatures still in their window it refuses new requests rather than
// forget one (ErrReplayCacheFull). Its clock is the wall clock, as the
// verifier's is (never the desk's replay clock).
type replayCache struct {
	mu    sync.Mutex
	n     int
	seen  map[[sha256.Size]byte]time.Time // MAC → end of its window
	clock market.Clock
}

func newReplayCache(n int) *replayCache {
	return &replayCache{n: n, seen: make(map[[sha256.Size]byte]time.Time, n), clock: market.WallClock{}}
}

// firstTime records mac (a request stamped ts) and returns nil if it was
// new, ErrReplay if it was seen within its window, ErrReplayCacheFull if
// there is no room.
func (rc *replayCache) firstTime(mac [sha256.Size]byte, ts time.Time) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	now := rc.clock.Now()
	if _, ok := rc.seen[mac]; ok {
		return ErrReplay
	}
	if len(rc.seen) >= rc.n {
		for k, end := range rc.seen {
			if now.After(end) {
				delete(rc.seen, k)
			}
		}
		if len(rc.seen) >= rc.n {
			return ErrReplayCacheFull
		}
	}
	rc.seen[mac] = ts.Add(replayWindow)
	return nil
}
