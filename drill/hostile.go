package drill

// hostile.go: the hostile-requests scenario. The real binary runs as
// `deskguard run` (sim venue in-process, in-process engines, a synthetic
// session at real-time pace, console on a loopback port, demo tokens) and
// is sent requests an attacker or a confused operator would send: the
// console without a token, with forged tokens, with the wrong role, with a
// cookie session but no or someone else's CSRF token, with a logged-out
// session's cookie, state changes by GET, oversized bodies and headers,
// the token in the query string; the control socket with bad, empty and
// wrong-role tokens, unknown ops, garbage, oversized and smuggled frames.
// Every one must be refused with the right status and change nothing: at
// the end the desk is still running, no account was halted, the journal
// holds no kill, re-arm, unlock or command from them and verifies. Then
// the binary's file arguments get path tricks (a directory, a FIFO,
// /dev/zero, a symlink loop, a missing file, a ../../ escape, a non-journal
// file as the journal, output into a missing directory): each must be
// refused promptly with a message naming the path, no panic, and nothing
// changed or created outside the round's directory.
// The holes of issue 25 each have their probe: a signed Slack command
// replayed with its signature's hex in another letter case (item 1); a
// blank unlock reason and a reason-less re-arm over the control socket,
// and a trader's socket status showing the desk's money (item 4); the
// manager token file's mode, a second desk refused at start (its console
// address taken) leaving it alone, a planted readable or symlinked token
// file refusing a desk's start (item 5); another application's bbolt file,
// an empty file and a symlink given as the journal (item 8).
// It touches only the round's directory (and checks that the ../../ paths
// it names stay absent), loopback sockets and the processes it starts.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
)

// hostileSlackSecret signs the drill's Slack requests (the desk reads it
// from DESKGUARD_SLACK_SIGNING_SECRET); hostileSlackUser is in allowed_users.
const (
	hostileSlackSecret = "hostile-drill-signing-secret"
	hostileSlackUser   = "UHOSTILE"
)

// hostileCLITimeout bounds one CLI invocation: longer is a hang.
const hostileCLITimeout = 20 * time.Second

// hostileAccounts are the desk's accounts.
var hostileAccounts = []struct{ id, engine string }{{"H1", "orb"}, {"H2", "vwapmr"}, {"H3", "delta"}}

// hostile is one round's desk and what the drill learned from its output.
type hostile struct {
	o     *Options
	dir   string
	rng   *rand.Rand
	cfg   string
	cmd   *exec.Cmd
	done  chan error
	files []*os.File
	rd    *round

	base    string            // console URL
	mgr     string            // manager token
	viewer  string            // viewer token
	traders map[string]string // account → trader token
	hc      *http.Client
}

func (h *hostile) sock() string { return filepath.Join(h.dir, "desk.sock") }
func (h *hostile) db() string   { return filepath.Join(h.dir, "desk.db") }

func (h *hostile) violate(format string, args ...any) {
	h.rd.viol = append(h.rd.viol, fmt.Sprintf(format, args...))
}

// alive reports whether the desk process is still running.
func (h *hostile) alive() bool {
	select {
	case err := <-h.done:
		h.done <- err
		return false
	default:
		return true
	}
}

func (h *hostile) tail(name string) string {
	b, _ := os.ReadFile(filepath.Join(h.dir, "run."+name))
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return strings.TrimSpace(string(b))
}

// runHostile: see the file comment.
func runHostile(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	if o.Exe == "" {
		return rd, errors.New("hostile-requests: needs the deskguard binary (Options.Exe): run it as `deskguard drill`")
	}
	h := &hostile{o: o, dir: dir, rng: newRand(seed), rd: &rd, traders: map[string]string{}}
	h.hc = &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer h.close()
	if err := h.writeConfig(seed); err != nil {
		return rd, err
	}
	if err := h.start(ctx); err != nil {
		return rd, err
	}
	tokBefore := readFile(filepath.Join(dir, "deskguard.token"))
	before, err := h.status(ctx, h.mgr)
	if err != nil {
		return rd, fmt.Errorf("hostile-requests: status before: %w", err)
	}

	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"console", h.consoleRequests},
		{"control socket", h.socketRequests},
		{"slack replay", h.slackReplay},
		{"token file", h.tokenFile},
		{"file arguments", h.pathTricks},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return rd, fmt.Errorf("hostile-requests: %s: %w", s.name, err)
		}
		if !h.alive() {
			h.violate("the desk died during the hostile %s requests: %s", s.name, h.tail("err"))
			return rd, nil
		}
	}

	// Nothing changed: the desk runs, no account was halted, the token the
	// CLI reads is still this desk's, and the console still serves.
	if got := readFile(filepath.Join(dir, "deskguard.token")); got != tokBefore {
		h.violate("./deskguard.token changed during the round (a refused command replaced the running desk's token)")
	}
	after, err := h.status(ctx, h.mgr)
	if err != nil {
		h.violate("the manager's status after the hostile requests: %v", err)
	} else {
		if after.State == "halting" || after.State == "halted" {
			h.violate("after the hostile requests the desk is %s (it was %s)", after.State, before.State)
		}
		for _, a := range after.Accounts {
			if a.State == "halting" || a.State == "halted" {
				h.violate("after the hostile requests account %s is %s", a.ID, a.State)
			}
		}
	}
	if code, _, err := h.do(ctx, http.MethodGet, "/api/status", "", map[string]string{"Authorization": "Bearer " + h.mgr}); err != nil || code != http.StatusOK {
		h.violate("the console no longer serves the manager after the hostile requests: %d %v", code, err)
	}
	if err := h.stop(ctx); err != nil {
		h.violate("%v", err)
	}
	h.checkJournal()
	return rd, nil
}

// writeConfig writes the desk's config: sim venue, in-process engines, a
// synthetic session at real-time pace (it outlasts the round), console on
// a free loopback port, journal and socket in the round's directory.
func (h *hostile) writeConfig(seed int64) error {
	if seed <= 0 {
		seed = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "warn"

[data]
seed = %d
pace = 1.0

[broker]
kind = "sim"

[console]
listen = "127.0.0.1:0"
# The probes send dozens of forged tokens from one address and then need
# each refused for its own reason (401, 403 …), not by the login limit
# (tested on its own: console TestFailedLoginsLimited, control
# TestFailedTokensLimitedPerPeer).
login_burst = 100000

[slack]
allowed_users = [%q]
`, h.db(), h.sock(), seed, hostileSlackUser)
	for _, a := range hostileAccounts {
		fmt.Fprintf(&b, "\n[[accounts]]\nid = %q\nstart_equity = \"50000.00\"\nstrategies = [%q]\n", a.id, a.engine)
	}
	h.cfg = filepath.Join(h.dir, "desk.toml")
	if err := os.WriteFile(h.cfg, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("hostile-requests: config: %w", err)
	}
	return nil
}

// start runs the desk and waits until its output names the console and
// the demo tokens and its control socket answers the manager.
func (h *hostile) start(ctx context.Context) error {
	cmd, done, files, err := startRunProcess(h.o, h.dir, "run", []string{"DESKGUARD_SLACK_SIGNING_SECRET=" + hostileSlackSecret},
		"--config", h.cfg, "--status-every", "1h")
	h.files = append(h.files, files...)
	if err != nil {
		return fmt.Errorf("hostile-requests: %w", err)
	}
	h.cmd, h.done = cmd, done
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if h.parseOutput() {
			if _, err := h.status(ctx, h.mgr); err == nil {
				return nil
			}
		}
		select {
		case err := <-h.done:
			h.done <- err
			return fmt.Errorf("hostile-requests: the desk exited at start (%v): %s", err, h.tail("err"))
		case <-ctx.Done():
			return fmt.Errorf("hostile-requests: the desk did not come up (console %q, manager token %t): %s", h.base, h.mgr != "", h.tail("err"))
		case <-time.After(10 * time.Millisecond): // an outside observer's polling interval
		}
	}
}

// parseOutput reads the console address and the demo tokens from the
// desk's stdout; it reports whether all were found.
func (h *hostile) parseOutput() bool {
	for _, line := range strings.Split(readFile(filepath.Join(h.dir, "run.out")), "\n") {
		if u, ok := strings.CutPrefix(line, "console: "); ok {
			h.base = strings.TrimSpace(u)
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || !strings.HasPrefix(line, "  ") {
			continue
		}
		switch {
		case f[0] == "manager":
			h.mgr = f[1]
		case f[0] == "viewer":
			h.viewer = f[1]
		case strings.HasPrefix(f[0], "trader:"):
			h.traders[strings.TrimPrefix(f[0], "trader:")] = f[1]
		}
	}
	// The desk writes ./deskguard.token last, once it is up: the round
	// starts when it holds the manager token printed.
	up := h.mgr != "" && strings.TrimSpace(readFile(filepath.Join(h.dir, "deskguard.token"))) == h.mgr
	return up && h.base != "" && !strings.HasSuffix(h.base, ":0") && h.viewer != "" && len(h.traders) == len(hostileAccounts)
}

func (h *hostile) status(ctx context.Context, tok string) (*deskapi.Status, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := deskapi.Call(cctx, h.sock(), deskapi.Request{Token: tok, Op: "status"})
	if err != nil {
		return nil, err
	}
	if resp.Status == nil {
		return nil, errors.New("status without a body")
	}
	return resp.Status, nil
}

// stop ends the desk with SIGTERM and requires a clean exit.
func (h *hostile) stop(ctx context.Context) error {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case err := <-h.done:
		h.done <- err
		if err != nil {
			return fmt.Errorf("the desk exited with %v after SIGTERM: %s", err, h.tail("err"))
		}
		return nil
	case <-t.C:
		_ = h.cmd.Process.Kill()
		return fmt.Errorf("the desk did not stop within 30s of SIGTERM: %s", h.tail("err"))
	case <-ctx.Done():
		_ = h.cmd.Process.Kill()
		return ctx.Err()
	}
}

func (h *hostile) close() {
	if h.cmd != nil && h.alive() {
		_ = h.cmd.Process.Kill()
		<-h.done
	}
	for _, f := range h.files {
		_ = f.Close()
	}
	if h.hc != nil {
		h.hc.CloseIdleConnections()
	}
}

// checkJournal: nothing the hostile requests sent reached the journal as
// an act (a kill, a re-arm, an unlock, a fault cleared, a command by a
// demo principal),
// and the journal verifies.
func (h *hostile) checkJournal() {
	j, err := journal.Open(h.db(), journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		h.violate("journal open: %v", err)
		return
	}
	err = j.Iterate(1, func(r journal.Record) error {
		switch r.Kind {
		case journal.KindKill:
			k, _ := r.Kill()
			h.violate("journal seq %d: a kill of %s (trigger %s, by %s) during the hostile requests", r.Seq, k.Scope, k.Trigger, k.Who)
		case journal.KindRearm, journal.KindUnlock, journal.Kind("clear"):
			a, _ := r.Authorization()
			h.violate("journal seq %d: %s by %s (%s) during the hostile requests", r.Seq, r.Kind, a.Who, a.Why)
		case journal.KindCommand:
			if strings.Contains(string(r.Body), "demo-") {
				h.violate("journal seq %d: a command by a hostile request: %s", r.Seq, r.Body)
			}
		}
		return nil
	})
	_ = j.Close()
	if err != nil {
		h.violate("journal read: %v", err)
	}
	rep, err := journal.Verify(h.db(), journal.VerifyOptions{Timeout: 5 * time.Second, FillOwner: venueOwned, Checkers: []journal.Checker{ledgercheck.New()}})
	switch {
	case err != nil:
		h.violate("journal verify: %v", err)
	case !rep.OK:
		h.violate("journal verify: %s", strings.Join(rep.Problems, "; "))
	}
}

// --- the console ---------------------------------------------------------

// do sends one console request; it returns the status and (the start of)
// the body. Headers "Cookie" and others are set as given.
func (h *hostile) do(ctx context.Context, method, path, body string, hdr map[string]string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, rb)
	if err != nil {
		return 0, nil, err
	}
	if body != "" && hdr["Content-Type"] == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	// A 2xx stream (events) would never end: read what is there.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b, nil
}

// session is a console login: its cookie and CSRF token.
type session struct{ cookie, csrf string }

func (h *hostile) login(ctx context.Context, tok string) (session, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"token": tok})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/api/login", bytes.NewReader(body))
	if err != nil {
		return session{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.hc.Do(req)
	if err != nil {
		return session{}, err
	}
	defer resp.Body.Close()
	var info struct {
		CSRF string `json:"csrf"`
	}
	if resp.StatusCode != http.StatusOK {
		return session{}, fmt.Errorf("login: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return session{}, fmt.Errorf("login: %w", err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "deskguard_session" {
			return session{cookie: c.Name + "=" + c.Value, csrf: info.CSRF}, nil
		}
	}
	return session{}, errors.New("login: no session cookie")
}

// probe is one hostile console request and the status it must get.
type probe struct {
	what         string
	method, path string
	body         string
	hdr          map[string]string
	want         int
	connErrOK    bool // the server may cut the connection instead (oversized headers)
	notContains  string
}

// send sends p, counts it as a fault and records a violation unless it is
// refused with p.want.
func (h *hostile) send(ctx context.Context, p probe) {
	h.rd.faults++
	code, body, err := h.do(ctx, p.method, p.path, p.body, p.hdr)
	switch {
	case err != nil && !h.alive():
		h.violate("console %s: the desk died: %v: %s", p.what, err, h.tail("err"))
	case err != nil && p.connErrOK:
	case err != nil:
		h.violate("console %s: no answer: %v", p.what, err)
	case code >= 200 && code < 300:
		h.violate("console %s: ACCEPTED (%d %s)", p.what, code, bytes.TrimSpace(body))
	case p.notContains != "" && bytes.Contains(body, []byte(p.notContains)):
		h.violate("console %s: answered %d with %q in the body", p.what, code, p.notContains)
	case p.want != 0 && code != p.want:
		h.violate("console %s: answered %d, want %d (%s)", p.what, code, p.want, bytes.TrimSpace(body))
	}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// oneOff is tok with one character changed.
func oneOff(tok string, rng *rand.Rand) string {
	b := []byte(tok)
	i := rng.IntN(len(b))
	if b[i] == '0' {
		b[i] = '1'
	} else {
		b[i] = '0'
	}
	return string(b)
}

func randomHex(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b)
}

func (h *hostile) consoleRequests(ctx context.Context) error {
	const (
		unauth    = http.StatusUnauthorized
		forbidden = http.StatusForbidden
		method    = http.StatusMethodNotAllowed
	)
	// The controls: the real tokens and sessions work, so each refusal
	// below is the server's judgement of the hostile part alone.
	if code, _, err := h.do(ctx, http.MethodGet, "/api/status", "", bearer(h.mgr)); err != nil || code != http.StatusOK {
		return fmt.Errorf("the manager's bearer token does not work: %d %v", code, err)
	}
	s1, err := h.login(ctx, h.mgr)
	if err != nil {
		return fmt.Errorf("manager login: %w", err)
	}
	s2, err := h.login(ctx, h.mgr)
	if err != nil {
		return fmt.Errorf("manager login: %w", err)
	}
	sv, err := h.login(ctx, h.viewer)
	if err != nil {
		return fmt.Errorf("viewer login: %w", err)
	}
	if code, _, err := h.do(ctx, http.MethodGet, "/api/session", "", map[string]string{"Cookie": s1.cookie}); err != nil || code != http.StatusOK {
		return fmt.Errorf("the manager's session does not work: %d %v", code, err)
	}
	// s2 logs out (with its CSRF token): its cookie is now a replay.
	if code, _, err := h.do(ctx, http.MethodPost, "/api/logout", "", map[string]string{"Cookie": s2.cookie, "X-CSRF-Token": s2.csrf}); err != nil || code != http.StatusOK {
		return fmt.Errorf("logout: %d %v", code, err)
	}

	desk := `{"account":""}`
	acct := func(id string) string { return fmt.Sprintf(`{"account":%q}`, id) }
	post := http.MethodPost
	var ps []probe
	add := func(p probe) { ps = append(ps, p) }

	// No token, forged tokens.
	add(probe{what: "flatten without a token", method: post, path: "/api/flatten", body: desk, want: unauth})
	add(probe{what: "status without a token", method: http.MethodGet, path: "/api/status", want: unauth})
	add(probe{what: "press without a token", method: post, path: "/api/press", want: unauth})
	add(probe{what: "flatten with a random token", method: post, path: "/api/flatten", body: desk, hdr: bearer(randomHex(h.rng, 16)), want: unauth})
	add(probe{what: "flatten with the manager token one character off", method: post, path: "/api/flatten", body: desk, hdr: bearer(oneOff(h.mgr, h.rng)), want: unauth})
	add(probe{what: "flatten with the manager token cut short", method: post, path: "/api/flatten", body: desk, hdr: bearer(h.mgr[:len(h.mgr)-1]), want: unauth})
	add(probe{what: "flatten with the manager token upper-cased", method: post, path: "/api/flatten", body: desk, hdr: bearer(strings.ToUpper(h.mgr)), want: unauth})
	add(probe{what: "flatten with an empty bearer token", method: post, path: "/api/flatten", body: desk, hdr: map[string]string{"Authorization": "Bearer "}, want: unauth})
	add(probe{what: "flatten with the manager token in a Basic header", method: post, path: "/api/flatten", body: desk, hdr: map[string]string{"Authorization": "Basic " + h.mgr}, want: unauth})
	add(probe{what: "rearm with a forged token", method: post, path: "/api/rearm", body: `{"reason":"x"}`, hdr: bearer(randomHex(h.rng, 16)), want: unauth})
	add(probe{what: "login with a forged token", method: post, path: "/api/login", body: fmt.Sprintf(`{"token":%q}`, oneOff(h.mgr, h.rng)), want: unauth})
	add(probe{what: "login with an empty token", method: post, path: "/api/login", body: `{"token":""}`, want: unauth})
	add(probe{what: "flatten with a forged session cookie", method: post, path: "/api/flatten", body: desk,
		hdr: map[string]string{"Cookie": "deskguard_session=" + randomHex(h.rng, 32), "X-CSRF-Token": s1.csrf}, want: unauth})
	// A bad bearer token never falls back to a good cookie.
	add(probe{what: "flatten with a forged bearer token beside the manager's session", method: post, path: "/api/flatten", body: desk,
		hdr: map[string]string{"Authorization": "Bearer " + randomHex(h.rng, 16), "Cookie": s1.cookie, "X-CSRF-Token": s1.csrf}, want: unauth})

	// The viewer may do nothing.
	vw := bearer(h.viewer)
	add(probe{what: "viewer flattens the desk", method: post, path: "/api/flatten", body: desk, hdr: vw, want: forbidden})
	add(probe{what: "viewer flattens an account", method: post, path: "/api/flatten", body: acct(hostileAccounts[0].id), hdr: vw, want: forbidden})
	add(probe{what: "viewer re-arms", method: post, path: "/api/rearm", body: `{"reason":"hostile"}`, hdr: vw, want: forbidden})
	add(probe{what: "viewer unlocks", method: post, path: "/api/unlock", body: fmt.Sprintf(`{"account":%q,"reason":"hostile"}`, hostileAccounts[0].id), hdr: vw, want: forbidden})
	add(probe{what: "viewer presses the button", method: post, path: "/api/press", hdr: vw, want: forbidden})
	add(probe{what: "viewer stops engines", method: post, path: "/api/engines", body: fmt.Sprintf(`{"account":%q,"run":false}`, hostileAccounts[0].id), hdr: vw, want: forbidden})
	add(probe{what: "viewer session flattens the desk (with its CSRF token)", method: post, path: "/api/flatten", body: desk,
		hdr: map[string]string{"Cookie": sv.cookie, "X-CSRF-Token": sv.csrf}, want: forbidden})

	// A trader may act on its own account only.
	x, y := hostileAccounts[0].id, hostileAccounts[1].id
	tr := bearer(h.traders[x])
	add(probe{what: "trader:" + x + " flattens " + y, method: post, path: "/api/flatten", body: acct(y), hdr: tr, want: forbidden})
	add(probe{what: "trader:" + x + " flattens the desk", method: post, path: "/api/flatten", body: desk, hdr: tr, want: forbidden})
	add(probe{what: "trader:" + x + " flattens an account by an empty body", method: post, path: "/api/flatten", hdr: tr, want: forbidden})
	add(probe{what: "trader:" + x + " presses the button", method: post, path: "/api/press", hdr: tr, want: forbidden})
	add(probe{what: "trader:" + x + " re-arms", method: post, path: "/api/rearm", body: `{"reason":"hostile"}`, hdr: tr, want: forbidden})
	add(probe{what: "trader:" + x + " unlocks its own account", method: post, path: "/api/unlock", body: fmt.Sprintf(`{"account":%q,"reason":"hostile"}`, x), hdr: tr, want: forbidden})
	add(probe{what: "trader:" + x + " stops " + y + "'s engines", method: post, path: "/api/engines", body: fmt.Sprintf(`{"account":%q,"run":false}`, y), hdr: tr, want: forbidden})

	// Cookie sessions: CSRF, origin, replay.
	add(probe{what: "manager session flattens without a CSRF token", method: post, path: "/api/flatten", body: desk,
		hdr: map[string]string{"Cookie": s1.cookie}, want: forbidden})
	add(probe{what: "manager session flattens with another session's CSRF token", method: post, path: "/api/flatten", body: desk,
		hdr: map[string]string{"Cookie": s1.cookie, "X-CSRF-Token": s2.csrf}, want: forbidden})
	add(probe{what: "manager session flattens with a forged CSRF token", method: post, path: "/api/flatten", body: desk,
		hdr: map[string]string{"Cookie": s1.cookie, "X-CSRF-Token": randomHex(h.rng, 32)}, want: forbidden})
	add(probe{what: "manager session presses with the viewer's CSRF token", method: post, path: "/api/press",
		hdr: map[string]string{"Cookie": s1.cookie, "X-CSRF-Token": sv.csrf}, want: forbidden})
	add(probe{what: "manager session flattens from another origin", method: post, path: "/api/flatten", body: desk,
		hdr: map[string]string{"Cookie": s1.cookie, "X-CSRF-Token": s1.csrf, "Origin": "http://evil.example"}, want: forbidden})
	add(probe{what: "a logged-out session's cookie and CSRF token replayed on flatten", method: post, path: "/api/flatten", body: desk,
		hdr: map[string]string{"Cookie": s2.cookie, "X-CSRF-Token": s2.csrf}, want: unauth})
	add(probe{what: "a logged-out session's cookie replayed on status", method: http.MethodGet, path: "/api/status",
		hdr: map[string]string{"Cookie": s2.cookie}, want: unauth})
	add(probe{what: "a logged-out session's cookie replayed on rearm", method: post, path: "/api/rearm", body: `{"reason":"replay"}`,
		hdr: map[string]string{"Cookie": s2.cookie, "X-CSRF-Token": s2.csrf}, want: unauth})

	// State changes by GET (and other methods), with the manager's token.
	mg := bearer(h.mgr)
	for _, p := range []string{"/api/flatten", "/api/press", "/api/rearm?reason=get", "/api/logout"} {
		add(probe{what: "GET " + p, method: http.MethodGet, path: p, hdr: mg, want: method})
	}
	add(probe{what: "PUT /api/flatten", method: http.MethodPut, path: "/api/flatten", body: desk, hdr: mg, want: method})
	add(probe{what: "DELETE /api/engines", method: http.MethodDelete, path: "/api/engines", hdr: mg, want: method})
	add(probe{what: "POST to a static page", method: post, path: "/", body: desk, hdr: mg, want: method})
	add(probe{what: "POST to an unknown endpoint", method: post, path: "/api/kill", body: desk, hdr: mg, want: http.StatusNotFound})

	// The token in the query string is not a credential.
	add(probe{what: "status with the manager token in the query", method: http.MethodGet, path: "/api/status?token=" + h.mgr, want: unauth})
	add(probe{what: "events with the manager token in the query", method: http.MethodGet, path: "/api/events?token=" + h.mgr + "&access_token=" + h.mgr, want: unauth})
	add(probe{what: "flatten with the manager token in the query", method: post, path: "/api/flatten?token=" + h.mgr + "&access_token=" + h.mgr, body: desk, want: unauth})
	add(probe{what: "login with the manager token in the query", method: post, path: "/api/login?token=" + h.mgr,
		hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: unauth})

	// Oversized and malformed bodies and headers.
	pad := strings.Repeat(" ", 64<<10)
	add(probe{what: "a 64 KiB flatten body (valid JSON, then padding)", method: post, path: "/api/engines",
		body: fmt.Sprintf(`{"account":%q,"run":true}`, x) + pad, hdr: mg, want: http.StatusRequestEntityTooLarge})
	add(probe{what: "a 64 KiB account name", method: post, path: "/api/flatten", body: `{"account":"` + strings.Repeat("A", 64<<10) + `"}`, hdr: mg,
		want: http.StatusRequestEntityTooLarge})
	add(probe{what: "a login form past the body limit", method: post, path: "/api/login", body: "pad=" + strings.Repeat("x", 64<<10) + "&token=" + h.mgr,
		hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: http.StatusRequestEntityTooLarge})
	add(probe{what: "flatten with an unknown field", method: post, path: "/api/flatten", body: `{"account":"","all":true,"force":true}`, hdr: tr, want: http.StatusBadRequest})
	add(probe{what: "flatten with a JSON array body", method: post, path: "/api/flatten", body: `[{"account":""}]`, hdr: mg, want: http.StatusBadRequest})
	add(probe{what: "a 1.5 MB Authorization header", method: http.MethodGet, path: "/api/status",
		hdr: map[string]string{"Authorization": "Bearer " + strings.Repeat("a", 3<<19)}, want: http.StatusRequestHeaderFieldsTooLarge, connErrOK: true})

	// Path tricks on the static files.
	for _, p := range []string{"/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/static/../../go.mod"} {
		add(probe{what: "GET " + p, method: http.MethodGet, path: p, notContains: "root:"})
	}
	for _, p := range ps {
		if !h.alive() {
			return nil
		}
		h.send(ctx, p)
	}
	// A client that opens a connection and sends half a request does not
	// hold up the manager.
	h.rd.faults++
	host := strings.TrimPrefix(strings.TrimPrefix(h.base, "http://"), "https://")
	var d net.Dialer
	slow, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		h.violate("console: dial: %v", err)
		return nil
	}
	defer slow.Close()
	_, _ = io.WriteString(slow, "POST /api/flatten HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: Bearer "+h.mgr[:8])
	if code, _, err := h.do(ctx, http.MethodGet, "/api/status", "", mg); err != nil || code != http.StatusOK {
		h.violate("console: the manager's status with a half-sent request open: %d %v", code, err)
	}
	return nil
}

// --- the control socket --------------------------------------------------

// call sends one request through deskapi.Call and requires a refusal.
func (h *hostile) call(ctx context.Context, what string, req deskapi.Request) {
	h.rd.faults++
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := deskapi.Call(cctx, h.sock(), req)
	switch {
	case resp.OK:
		h.violate("control %s: ACCEPTED (who %s)", what, resp.Who)
	case resp.Error == "" && !h.alive():
		h.violate("control %s: the desk died: %v: %s", what, err, h.tail("err"))
	case resp.Error == "":
		h.violate("control %s: no answer: %v", what, err)
	}
}

// callRefused is call, and the refusal must say want (it must come from
// the rule, not from the desk's state).
func (h *hostile) callRefused(ctx context.Context, what string, req deskapi.Request, want string) {
	h.rd.faults++
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := deskapi.Call(cctx, h.sock(), req)
	switch {
	case resp.OK:
		h.violate("control %s: ACCEPTED (who %s)", what, resp.Who)
	case resp.Error == "":
		h.violate("control %s: no answer: %v", what, err)
	case !strings.Contains(resp.Error, want):
		h.violate("control %s: refused with %q, want %q (the desk, not the rule, refused it)", what, resp.Error, want)
	}
}

// raw writes frame to the control socket as it is, closes the writing
// side and requires an answer that is a refusal (or the connection closed
// without one when frame is cut off).
func (h *hostile) raw(ctx context.Context, what string, frame []byte) {
	h.rd.faults++
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(cctx, "unix", h.sock())
	if err != nil {
		h.violate("control %s: dial: %v", what, err)
		return
	}
	defer c.Close()
	dl, _ := cctx.Deadline()
	_ = c.SetDeadline(dl)
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(frame)
		if uc, ok := c.(*net.UnixConn); ok && err == nil {
			err = uc.CloseWrite()
		}
		werr <- err
	}()
	b, rerr := io.ReadAll(io.LimitReader(c, 1<<20))
	<-werr // the server may stop reading a long frame and close: a write error then is expected
	var resp deskapi.Response
	switch {
	case len(bytes.TrimSpace(b)) == 0 && !h.alive():
		h.violate("control %s: the desk died: %v: %s", what, rerr, h.tail("err"))
	case len(bytes.TrimSpace(b)) == 0:
		h.violate("control %s: no answer (%v)", what, rerr)
	case json.Unmarshal(b, &resp) != nil:
		h.violate("control %s: answered with something that is not a response: %.200q", what, b)
	case resp.OK:
		h.violate("control %s: ACCEPTED: %s", what, bytes.TrimSpace(b))
	case resp.Error == "":
		h.violate("control %s: refused without saying why: %s", what, bytes.TrimSpace(b))
	}
}

func (h *hostile) socketRequests(ctx context.Context) error {
	x, y := hostileAccounts[0].id, hostileAccounts[1].id
	h.call(ctx, "status with a random token", deskapi.Request{Token: randomHex(h.rng, 16), Op: "status"})
	h.call(ctx, "flatten with a random token", deskapi.Request{Token: randomHex(h.rng, 16), Op: "flatten"})
	h.call(ctx, "flatten with an empty token", deskapi.Request{Op: "flatten"})
	h.call(ctx, "press with an empty token", deskapi.Request{Op: "press"})
	h.call(ctx, "flatten with the manager token one character off", deskapi.Request{Token: oneOff(h.mgr, h.rng), Op: "flatten"})
	h.call(ctx, "rearm with the manager token cut short", deskapi.Request{Token: h.mgr[:len(h.mgr)-1], Op: "rearm", Reason: "x"})
	h.call(ctx, "viewer flattens the desk", deskapi.Request{Token: h.viewer, Op: "flatten"})
	h.call(ctx, "viewer flattens an account", deskapi.Request{Token: h.viewer, Op: "flatten", Account: x})
	h.call(ctx, "viewer re-arms", deskapi.Request{Token: h.viewer, Op: "rearm", Reason: "hostile"})
	h.call(ctx, "viewer unlocks", deskapi.Request{Token: h.viewer, Op: "unlock", Account: x, Reason: "hostile"})
	h.call(ctx, "viewer presses", deskapi.Request{Token: h.viewer, Op: "press"})
	h.call(ctx, "viewer stops engines", deskapi.Request{Token: h.viewer, Op: "engines", Account: x})
	tx := h.traders[x]
	h.call(ctx, "trader:"+x+" flattens "+y, deskapi.Request{Token: tx, Op: "flatten", Account: y})
	h.call(ctx, "trader:"+x+" flattens the desk", deskapi.Request{Token: tx, Op: "flatten"})
	h.call(ctx, "trader:"+x+" presses", deskapi.Request{Token: tx, Op: "press"})
	h.call(ctx, "trader:"+x+" re-arms", deskapi.Request{Token: tx, Op: "rearm", Reason: "hostile"})
	h.call(ctx, "trader:"+x+" unlocks its own account", deskapi.Request{Token: tx, Op: "unlock", Account: x, Reason: "hostile"})
	h.call(ctx, "trader:"+x+" stops "+y+"'s engines", deskapi.Request{Token: tx, Op: "engines", Account: y})
	h.call(ctx, "viewer clears a fault", deskapi.Request{Token: h.viewer, Op: "clear", Account: x, Reason: "hostile"})
	h.call(ctx, "trader:"+x+" clears its own fault", deskapi.Request{Token: tx, Op: "clear", Account: x, Reason: "hostile"})
	h.call(ctx, "clear with a random token", deskapi.Request{Token: randomHex(h.rng, 16), Op: "clear", Account: x, Reason: "x"})
	// The same rules as the console (authz): a reason is required, a blank
	// one is none — refused as such, not by the desk's state.
	h.callRefused(ctx, "manager unlocks with a blank reason", deskapi.Request{Token: h.mgr, Op: "unlock", Account: x, Reason: " "}, "reason is required")
	h.callRefused(ctx, "manager unlocks with a tab for a reason", deskapi.Request{Token: h.mgr, Op: "unlock", Account: x, Reason: "\t"}, "reason is required")
	h.callRefused(ctx, "manager re-arms without a reason", deskapi.Request{Token: h.mgr, Op: "rearm"}, "reason is required")
	h.callRefused(ctx, "manager re-arms with a blank reason", deskapi.Request{Token: h.mgr, Op: "rearm", Reason: "   "}, "reason is required")
	h.callRefused(ctx, "manager clears with a blank reason", deskapi.Request{Token: h.mgr, Op: "clear", Account: x, Reason: " "}, "reason is required")
	h.callRefused(ctx, "manager unlocks with a reason of two lines", deskapi.Request{Token: h.mgr, Op: "unlock", Account: x, Reason: "one\ntwo"}, "bad reason")
	// What a trader sees over the socket is what the console shows it.
	h.rd.faults++
	if st, err := h.status(ctx, tx); err != nil {
		h.violate("control: trader:%s status: %v", x, err)
	} else {
		if st.Net != "" || st.Equity != "" || st.DeskLockout != "" || st.Trades != 0 {
			h.violate("control: trader:%s status shows the desk's money: net %q equity %q lockout line %q trades %d", x, st.Net, st.Equity, st.DeskLockout, st.Trades)
		}
		for _, a := range st.Accounts {
			if a.ID != x {
				h.violate("control: trader:%s status shows account %s", x, a.ID)
			}
		}
		for _, j := range st.Journal {
			if j.Account != x {
				h.violate("control: trader:%s status shows journal seq %d of %q", x, j.Seq, j.Account)
			}
		}
	}
	h.call(ctx, "an unknown op", deskapi.Request{Token: h.mgr, Op: "shutdown"})
	h.call(ctx, "an empty op", deskapi.Request{Token: h.mgr})
	h.call(ctx, "an op in capitals", deskapi.Request{Token: h.mgr, Op: "FLATTEN"})

	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(h.rng.Uint32())
	}
	h.raw(ctx, "random bytes", garbage)
	h.raw(ctx, "NUL bytes", make([]byte, 512))
	h.raw(ctx, "a JSON array", []byte(`[1,2,3]`))
	h.raw(ctx, "a token that is a number", []byte(`{"token":12345,"op":"flatten"}`))
	h.raw(ctx, "an unknown field beside the manager's token", []byte(fmt.Sprintf(`{"token":%q,"op":"flatten","account":%q,"force":true}`, h.mgr, x)))
	h.raw(ctx, "a frame past 64 KiB (the manager's flatten, then padding)",
		[]byte(fmt.Sprintf(`{"token":%q,"op":"flatten","account":%q,"reason":"%s"}`, h.mgr, x, strings.Repeat("A", 96<<10))))
	h.raw(ctx, "deeply nested JSON", []byte(strings.Repeat("[", 20000)))
	h.raw(ctx, "a refused request with the manager's flatten smuggled after it",
		[]byte(fmt.Sprintf("{\"token\":\"bad\",\"op\":\"status\"}\n{\"token\":%q,\"op\":\"flatten\"}\n", h.mgr)))
	h.raw(ctx, "the manager's status with the manager's press smuggled after it",
		[]byte(fmt.Sprintf("{\"token\":%q,\"op\":\"status\"}{\"token\":%q,\"op\":\"press\"}\n", h.mgr, h.mgr)))
	h.raw(ctx, "the manager's status followed by padding",
		[]byte(fmt.Sprintf("{\"token\":%q,\"op\":\"status\"} %s\n", h.mgr, strings.Repeat("x", 2000))))
	h.raw(ctx, "a frame cut off in the middle", []byte(fmt.Sprintf(`{"token":%q,"op":"fla`, h.mgr)))

	// A client that connects and sends nothing does not hold up the manager.
	h.rd.faults++
	var d net.Dialer
	idle, err := d.DialContext(ctx, "unix", h.sock())
	if err != nil {
		h.violate("control: dial: %v", err)
		return nil
	}
	defer idle.Close()
	if _, err := h.status(ctx, h.mgr); err != nil {
		h.violate("control: the manager's status with an idle connection open: %v", err)
	}
	return nil
}

// --- Slack ---------------------------------------------------------------

// slackPost sends a Slack-signed request to the desk's endpoint with the
// given signature header (sig "" = the right one) and returns the status.
func (h *hostile) slackPost(ctx context.Context, body string, ts int64, sig string) (int, error) {
	if sig == "" {
		sig = slackSignature(hostileSlackSecret, ts, body)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/slack/commands", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(ts))
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := h.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// slackReplay: one signed /deskguard status (harmless, so the desk stays
// as it was) is answered; the same request again, with its signature's hex
// in upper case, in mixed case, and byte for byte, must each get 401.
func (h *hostile) slackReplay(ctx context.Context) error {
	ts := time.Now().Unix() // Slack's timestamps are wall-clock seconds
	body := "command=%2Fdeskguard&text=status&user_id=" + hostileSlackUser + "&team_id=T1"
	code, err := h.slackPost(ctx, body, ts, "")
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("a signed status from an allowed user: %d %v", code, err)
	}
	sig := slackSignature(hostileSlackSecret, ts, body)
	hexPart := strings.TrimPrefix(sig, "v0=")
	mixed := []byte(hexPart)
	for i := range mixed {
		if i%2 == 0 {
			mixed[i] = bytes.ToUpper(mixed[i : i+1])[0]
		}
	}
	for _, c := range []struct{ what, sig string }{
		{"byte for byte", sig},
		{"with its signature upper-cased", "v0=" + strings.ToUpper(hexPart)},
		{"with its signature in mixed case", "v0=" + string(mixed)},
		{"with one letter of its signature upper-cased", "v0=" + upperFirstLetter(hexPart)},
	} {
		h.rd.faults++
		code, err := h.slackPost(ctx, body, ts, c.sig)
		switch {
		case err != nil:
			h.violate("slack replay %s: %v", c.what, err)
		case code != http.StatusUnauthorized:
			h.violate("slack replay %s: answered %d, want 401", c.what, code)
		}
	}
	return nil
}

func slackSignature(secret string, ts int64, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func upperFirstLetter(s string) string {
	if i := strings.IndexAny(s, "abcdef"); i >= 0 {
		return s[:i] + strings.ToUpper(s[i:i+1]) + s[i+1:]
	}
	return s
}

// --- the manager token file ----------------------------------------------

// tokenFile: the running desk's ./deskguard.token is a regular file of
// mode 0600; a second desk in the same directory refused at start (its
// console address is the running desk's) leaves it alone (runHostile
// compares it at the end); a desk started where a readable or a symlinked
// deskguard.token waits refuses to start and changes neither the file nor
// the link's target.
func (h *hostile) tokenFile(ctx context.Context) error {
	h.rd.faults++
	tok := filepath.Join(h.dir, "deskguard.token")
	if fi, err := os.Lstat(tok); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		h.violate("the running desk's deskguard.token: %v %v, want a regular file of mode 0600", fi, err)
	}
	addr := strings.TrimPrefix(strings.TrimPrefix(h.base, "http://"), "https://")
	h.refuse(ctx, addr, "run", "--config", h.cfg, "--journal", filepath.Join(h.dir, "second-c.db"),
		"--socket", filepath.Join(h.dir, "second-c.sock"), "--console", addr)
	if _, err := os.Lstat(filepath.Join(h.dir, "second-c.db")); err == nil {
		h.violate("a desk refused for its console address created its journal")
	}
	for _, kind := range []string{"readable", "symlink"} {
		d := filepath.Join(h.dir, "planted-"+kind)
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		target := filepath.Join(d, "target")
		if err := os.WriteFile(target, []byte("planted\n"), 0o600); err != nil {
			return err
		}
		p := filepath.Join(d, "deskguard.token")
		if kind == "readable" {
			if err := os.WriteFile(p, []byte("planted\n"), 0o600); err != nil {
				return err
			}
			if err := os.Chmod(p, 0o644); err != nil {
				return err
			}
		} else if err := os.Symlink(target, p); err != nil {
			return err
		}
		h.refuseIn(ctx, d, "deskguard.token", "run", "--config", h.cfg, "--journal", filepath.Join(d, "desk.db"),
			"--socket", filepath.Join(d, "desk.sock"), "--console", "off")
		if readFile(target) != "planted\n" {
			h.violate("a planted %s deskguard.token: the file it names was overwritten", kind)
		}
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
			h.violate("a planted %s deskguard.token was removed: %v", kind, err)
		case kind == "readable" && (fi.Mode().Perm() != 0o644 || readFile(p) != "planted\n"):
			h.violate("a planted readable deskguard.token was changed (mode %v)", fi.Mode().Perm())
		case kind == "symlink" && fi.Mode()&os.ModeSymlink == 0:
			h.violate("a planted symlinked deskguard.token was replaced")
		}
		if _, err := os.Lstat(filepath.Join(d, "desk.db")); err == nil {
			h.violate("a desk refused for a planted %s token file created its journal", kind)
		}
	}
	return nil
}

// --- file arguments ------------------------------------------------------

// cli runs the binary with args in the round's directory, bounded in time.
func (h *hostile) cli(ctx context.Context, args ...string) (code int, stdout, stderr string, err error) {
	return h.cliIn(ctx, h.dir, args...)
}

// cliIn is cli in directory dir.
func (h *hostile) cliIn(ctx context.Context, dir string, args ...string) (code int, stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, hostileCLITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.o.Exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), h.o.Env...)
	cmd.WaitDelay = 2 * time.Second
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	if ctx.Err() != nil {
		return -1, so.String(), se.String(), fmt.Errorf("still running after %s (killed)", hostileCLITimeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), so.String(), se.String(), nil
	}
	if err != nil {
		return -1, so.String(), se.String(), err
	}
	return 0, so.String(), se.String(), nil
}

// refuse runs one hostile invocation: it must exit non-zero within the
// time bound with a message naming path (stderr, or stdout for a verify
// report), and no panic.
func (h *hostile) refuse(ctx context.Context, path string, args ...string) {
	h.refuseIn(ctx, h.dir, path, args...)
}

// refuseIn is refuse with the binary run in directory dir.
func (h *hostile) refuseIn(ctx context.Context, dir, path string, args ...string) {
	h.rd.faults++
	what := strings.Join(args, " ")
	code, so, se, err := h.cliIn(ctx, dir, args...)
	switch {
	case err != nil:
		h.violate("`deskguard %s`: %v: %s", what, err, firstLine(se))
	case strings.Contains(se, "goroutine ") || strings.Contains(se, "panic:"):
		h.violate("`deskguard %s`: panicked: %s", what, firstLine(se))
	case code == 0:
		h.violate("`deskguard %s`: exit 0: accepted (%s)", what, firstLine(so))
	case strings.TrimSpace(se) == "" && strings.TrimSpace(so) == "":
		h.violate("`deskguard %s`: exit %d with no message", what, code)
	case path != "" && !strings.Contains(se, path) && !strings.Contains(so, path):
		h.violate("`deskguard %s`: exit %d, but the message does not name %s: %s", what, code, path, firstLine(se+so))
	}
}

// writeForeignBolt makes a bbolt file as another application would: a
// bucket of its own, no journal meta.
func writeForeignBolt(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("sessions"))
		if err != nil {
			return err
		}
		return b.Put([]byte("user:1"), []byte("alice"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

type fileState struct {
	sum  [32]byte
	mod  time.Time
	size int64
}

func stateOf(path string) (fileState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileState{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fileState{}, err
	}
	return fileState{sum: sha256.Sum256(b), mod: fi.ModTime(), size: fi.Size()}, nil
}

func (h *hostile) pathTricks(ctx context.Context) error {
	d := h.dir
	mk := func(name string, data []byte) (string, error) {
		p := filepath.Join(d, name)
		return p, os.WriteFile(p, data, 0o600)
	}
	fifo := filepath.Join(d, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return fmt.Errorf("mkfifo: %w", err)
	}
	loop := filepath.Join(d, "loop-a")
	if err := os.Symlink(filepath.Join(d, "loop-b"), loop); err != nil {
		return err
	}
	if err := os.Symlink(loop, filepath.Join(d, "loop-b")); err != nil {
		return err
	}
	sub := filepath.Join(d, "a-directory")
	if err := os.Mkdir(sub, 0o700); err != nil {
		return err
	}
	bin := make([]byte, 2048)
	for i := range bin {
		bin[i] = byte(h.rng.Uint32())
	}
	binPath, err := mk("binary.dat", bin)
	if err != nil {
		return err
	}
	notJournal, err := mk("not-a-journal.db", []byte(readFile(h.cfg)))
	if err != nil {
		return err
	}
	// Issue 25 item 8: another application's bbolt file, an empty file (mode
	// 0644) and a symbolic link, each given as the journal.
	foreign := filepath.Join(d, "other-app.db")
	if err := writeForeignBolt(foreign); err != nil {
		return err
	}
	emptyDB, err := mk("empty.db", nil)
	if err != nil {
		return err
	}
	if err := os.Chmod(emptyDB, 0o644); err != nil {
		return err
	}
	linkDB := filepath.Join(d, "link.db")
	linkTarget := filepath.Join(d, "link-target.db")
	if err := os.Symlink(linkTarget, linkDB); err != nil {
		return err
	}
	trips, err := mk("trips.csv", []byte("account,strategy,side,qty,entry,exit\nH1,orb,long,1,5000.00,5001.25\n"))
	if err != nil {
		return err
	}
	// Paths that climb out of the round's directory to a place that must
	// not exist before or after.
	escName := "deskguard-hostile-" + randomHex(h.rng, 6)
	escape := filepath.Join("..", "..", escName, "x.csv")
	escAbs := filepath.Join(d, "..", "..", escName)
	escape2 := filepath.Join("..", escName, "out")
	escAbs2 := filepath.Join(d, "..", escName)
	for _, p := range []string{escAbs, escAbs2} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists before the round", p)
		}
	}
	missing := filepath.Join(d, "no-such-file.csv")
	protect := []string{h.cfg, notJournal, binPath, trips, foreign, emptyDB} // and ./deskguard.token: runHostile checks it
	before := map[string]fileState{}
	for _, p := range protect {
		st, err := stateOf(p)
		if err != nil {
			return err
		}
		before[p] = st
	}

	data := []string{sub, fifo, "/dev/zero", loop, missing, escape}
	for _, p := range data {
		h.refuse(ctx, p, "data", "summary", p)
		h.refuse(ctx, p, "replay", "--data", p)
		h.refuse(ctx, p, "signals", "--data", p, "--strategy", "orb")
	}
	for _, p := range []string{sub, "/dev/zero", binPath, fifo, loop, missing} {
		h.refuse(ctx, p, "config", "check", p)
	}
	for _, p := range []string{h.cfg, notJournal, fifo, "/dev/zero", sub} {
		h.refuse(ctx, p, "journal", "verify", "--db", p)
		h.refuse(ctx, p, "journal", "dump", "--db", p)
	}
	h.refuse(ctx, h.cfg, "report", "--db", h.cfg)
	h.refuse(ctx, fifo, "report", "--db", fifo)
	h.refuse(ctx, fifo, "report", "--trades", fifo)
	h.refuse(ctx, "/dev/zero", "report", "--trades", "/dev/zero")
	html := filepath.Join(d, "no-such-dir", "r.html")
	h.refuse(ctx, html, "report", "--trades", trips, "--html", html)
	h.refuse(ctx, escape2, "report", "--trades", trips, "--html", escape2)
	// A second desk in the same directory: on a non-journal file, a FIFO,
	// a device, the running desk's own journal, a bad config, a summary
	// into a missing directory. Each must refuse before doing anything.
	other := []string{"--socket", filepath.Join(d, "second.sock"), "--console", "off"}
	for _, p := range []string{notJournal, fifo, "/dev/zero", sub, h.db(), foreign, emptyDB, linkDB} {
		h.refuse(ctx, p, append([]string{"run", "--config", h.cfg, "--journal", p}, other...)...)
	}
	if _, err := os.Lstat(linkTarget); err == nil {
		h.violate("run --journal on a symbolic link created the file it points at")
	}
	if fi, err := os.Stat(emptyDB); err != nil || fi.Size() != 0 || fi.Mode().Perm() != 0o644 {
		h.violate("run --journal on an empty file changed it: %v %v", fi, err)
	}
	for _, p := range []string{"/dev/zero", fifo, sub} {
		h.refuse(ctx, p, "run", "--config", p)
	}
	summary := filepath.Join(d, "no-such-dir", "summary.json")
	h.refuse(ctx, summary, append([]string{"run", "--config", h.cfg, "--journal", filepath.Join(d, "second.db"), "--summary", summary}, other...)...)

	// Nothing outside the directory was created, and the files the
	// commands were pointed at are byte for byte as they were.
	for _, p := range []string{escAbs, escAbs2} {
		if _, err := os.Lstat(p); err == nil {
			h.violate("%s was created outside the round's directory", p)
			_ = os.RemoveAll(p)
		}
	}
	for _, p := range protect {
		st, err := stateOf(p)
		switch {
		case err != nil:
			h.violate("%s: %v after the hostile commands", p, err)
		case st != before[p]:
			h.violate("%s was modified by the hostile commands (%d → %d bytes)", p, before[p].size, st.size)
		}
	}
	if _, err := os.Lstat(filepath.Join(d, "second.db")); err == nil {
		h.violate("a refused run created its journal second.db")
	}
	return nil
}
