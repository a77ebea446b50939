package drill

// badinput.go: hostile input — the market fuzz corpora and random or
// truncated bytes through market.Open (no panic; a failure is an error
// naming the file), invalid configs through config.Parse (refused with the
// file, line and key), and forged, stale and replayed Slack command
// requests (refused with 401, and the desk not flattened).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/market"
)

// corpusEntry decodes a `go test fuzz v1` file holding one []byte value.
func corpusEntry(b []byte) ([]byte, bool) {
	s := string(b)
	i := strings.Index(s, "[]byte(")
	if i < 0 {
		return nil, false
	}
	lit := strings.TrimSpace(s[i+len("[]byte("):])
	lit = strings.TrimSuffix(lit, ")")
	v, err := strconv.Unquote(lit)
	if err != nil {
		return nil, false
	}
	return []byte(v), true
}

// readAll opens path with market.Open and reads it to the end, turning a
// panic into an error.
func readAll(path string) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("PANIC: %v", p)
		}
	}()
	f, err := market.Open(path, market.OpenOptions{})
	if err != nil {
		return 0, err
	}
	defer f.Close()
	for {
		if _, err := f.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

// goodAccount makes the bad configs otherwise valid.
const goodAccount = "[[accounts]]\nid = \"A1\"\nstart_equity = \"50000.00\"\nstrategies = [\"orb\"]\n"

var badConfigs = []struct{ text, key string }{
	{goodAccount + "[desk]\nworkers = \"threads\"\n", "desk.workers"},
	{goodAccount + "[desk]\nno_such_key = 1\n", "no_such_key"},
	{goodAccount + "[limits]\ndrawdown_pct = \"lots\"\n", "drawdown_pct"},
	{goodAccount + "[desk\n", ""},
}

func runBadInput(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	var viol []string
	bad := func(format string, args ...any) { viol = append(viol, fmt.Sprintf(format, args...)) }
	rng := newRand(seed)

	// 1. Market data: the fuzz corpora, then hostile mutations of them.
	var inputs [][]byte
	for _, sub := range []string{"FuzzDBN", "FuzzCSVTicks"} {
		files, _ := filepath.Glob(filepath.Join(o.FuzzDir, sub, "*"))
		if len(files) == 0 {
			return rd, fmt.Errorf("no fuzz corpus in %s (run from the repository root or pass the corpus directory)", filepath.Join(o.FuzzDir, sub))
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return rd, err
			}
			if v, ok := corpusEntry(b); ok {
				inputs = append(inputs, v)
			}
		}
	}
	seeds := len(inputs)
	for i := 0; i < seeds*8; i++ {
		src := inputs[rng.IntN(seeds)]
		m := append([]byte(nil), src...)
		switch rng.IntN(3) {
		case 0:
			if len(m) > 0 {
				m = m[:rng.IntN(len(m))] // truncated
			}
		case 1:
			for k := 0; k < 1+rng.IntN(8) && len(m) > 0; k++ {
				m[rng.IntN(len(m))] = byte(rng.IntN(256)) // flipped bytes
			}
		default:
			m = make([]byte, rng.IntN(512)) // noise
			for k := range m {
				m[k] = byte(rng.IntN(256))
			}
		}
		inputs = append(inputs, m)
	}
	for i, in := range inputs {
		path := filepath.Join(dir, fmt.Sprintf("input-%d.dat", i))
		if err := os.WriteFile(path, in, 0o600); err != nil {
			return rd, err
		}
		rd.faults++
		_, err := readAll(path)
		switch {
		case err == nil:
		case strings.HasPrefix(err.Error(), "PANIC"):
			bad("market.Open on %d bytes: %v", len(in), err)
		case !strings.Contains(err.Error(), path) && !strings.Contains(err.Error(), filepath.Base(path)):
			bad("market.Open error does not name the file: %v", err)
		}
	}

	// 2. Invalid configs.
	for _, bc := range badConfigs {
		rd.faults++
		_, err := config.Parse("bad.toml", bc.text)
		switch {
		case err == nil:
			bad("config %q accepted", bc.text)
		case !strings.Contains(err.Error(), "bad.toml:"):
			bad("config error does not name file:line: %v", err)
		case bc.key != "" && !strings.Contains(err.Error(), bc.key):
			bad("config error does not name the key %s: %v", bc.key, err)
		}
	}

	// 3. Forged, stale and replayed Slack command requests.
	var flattened atomic.Int64
	secret := "drill-signing-secret"
	cmd := alerts.NewCommander(alerts.Config{SigningSecret: alerts.Secret(secret), AllowedUsers: []string{"UDRILL"}},
		slackFlat{&flattened}, nil, o.Log, nil)
	srv := httptest.NewServer(cmd.HTTPHandler())
	defer srv.Close()
	body := "command=%2Fdeskguard&text=flatten+all&user_id=UDRILL&team_id=T1&channel_id=C1"
	sign := func(ts int64, b string) string {
		m := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(m, "v0:%d:%s", ts, b)
		return "v0=" + hex.EncodeToString(m.Sum(nil))
	}
	post := func(ts int64, sig string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().Unix()
	cases := []struct {
		what string
		ts   int64
		sig  string
	}{
		{"forged signature", now, "v0=" + strings.Repeat("ab", 32)},
		{"signed with another secret", now, func() string {
			m := hmac.New(sha256.New, []byte("not-the-secret"))
			fmt.Fprintf(m, "v0:%d:%s", now, body)
			return "v0=" + hex.EncodeToString(m.Sum(nil))
		}()},
		{"stale timestamp (10 min)", now - 600, sign(now-600, body)},
	}
	for _, tc := range cases {
		rd.faults++
		if code := post(tc.ts, tc.sig); code != http.StatusUnauthorized {
			bad("slack %s: HTTP %d, want 401", tc.what, code)
		}
	}
	if flattened.Load() != 0 {
		bad("a refused Slack request flattened the desk")
	}
	good := sign(now, body)
	if code := post(now, good); code != http.StatusOK {
		bad("a genuine Slack request: HTTP %d, want 200", code)
	}
	rd.faults++
	if code := post(now, good); code != http.StatusUnauthorized {
		bad("a replayed Slack request: HTTP %d, want 401", code)
	}
	if n := flattened.Load(); n != 1 {
		bad("genuine + replayed Slack flatten reached the desk %d times, want 1", n)
	}
	rd.viol = viol
	return rd, nil
}

type slackFlat struct{ n *atomic.Int64 }

func (s slackFlat) Flatten(context.Context, string, string, string) error {
	s.n.Add(1)
	return nil
}

func (s slackFlat) Status(context.Context) (alerts.StatusReport, error) {
	return alerts.StatusReport{State: "running"}, nil
}
