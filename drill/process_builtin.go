package drill

// process_builtin.go: process scenarios on the built-in desk — `deskguard
// run` (o.Exe) starting its own venue child (`[broker] kind = "venue"`),
// the way an operator first meets the desk — for issue 25's holes that
// only a real process shows:
//
//   - desk-lockout (25.2, 25.3): a data file in which the ORB's long gaps
//     through its stop takes the desk past its desk-wide line: the desk is
//     locked out and halted; a plain re-arm leaves it locked out;
//     SIGKILLed and started again on the same journal (a new, empty venue
//     child replaying the file) it is still locked out and the replayed
//     breakout is refused (read back from the journal); an unlock
//     of the desk with a blank reason is refused, one with a reason lifts
//     it; the journal has one unlock of the desk and no entry allowed
//     while the desk was locked out. The data keeps the entry's trigger
//     clear of the venue child's last trade (gapHover); a refused entry is
//     a clear error of the round, not a silent pass.
//   - flatten-stalled (25.6): the venue child SIGSTOPped, four concurrent
//     `deskguard flatten --all`: every caller is answered within the
//     bound, exit 0, "accepted"; status shows the kill's progress and the
//     venue link down; SIGCONT: the kill completes, every account halted
//     and flat, the venue link back.
//
// Each finding is a violation of the round. It touches only the round's
// directory, the desk's loopback sockets and the processes it starts (the
// venue child it signals is the desk's own, named in its output).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

// builtinBound bounds each wait of these scenarios on the desk (a finding
// when passed, not a synchronisation: every poll is a real request).
const builtinBound = 90 * time.Second

// builtinConfig writes the built-in desk's config: the venue child on
// data (a file, or the synthetic session when ""), in-process engines,
// console off; extra goes in [desk].
func builtinConfig(dir, data string, pace float64, extra, accounts string) (string, error) {
	file := ""
	if data != "" {
		file = fmt.Sprintf("file = %q\n", data)
	}
	cfg := fmt.Sprintf(`[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "warn"
%s
[data]
%space = %g

[broker]
kind = "venue"

[console]
listen = "off"
%s`, filepath.Join(dir, "desk.db"), filepath.Join(dir, "desk.sock"), extra, file, pace, accounts)
	p := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		return "", fmt.Errorf("drill: config: %w", err)
	}
	return p, nil
}

// until polls the desk's status until cond holds; false when the bound
// passed or the desk exited first.
func (p *procDesk) until(ctx context.Context, cond func(*deskapi.Status) bool) (*deskapi.Status, bool) {
	ctx, cancel := context.WithTimeout(ctx, builtinBound)
	defer cancel()
	var last *deskapi.Status
	for {
		if st, err := p.status(ctx); err == nil {
			last = st
			if cond(st) {
				return st, true
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			return last, false
		case <-ctx.Done():
			return last, false
		case <-time.After(20 * time.Millisecond): // an outside observer's polling interval
		}
	}
}

// venueChild is the pid of the desk's venue child, from its start line
// ("… at the local venue URL (pid N, log …)"); 0 if not found.
func (p *procDesk) venueChild() int {
	out := readFile(filepath.Join(p.dir, fmt.Sprintf("run%d.out", p.life)))
	i := strings.Index(out, "(pid ")
	if i < 0 {
		return 0
	}
	var pid int
	if _, err := fmt.Sscanf(out[i:], "(pid %d,", &pid); err != nil {
		return 0
	}
	return pid
}

// The gap session's ORB long (gapSession, default [orb] config): the
// 10:00–10:05 bar closes at 5006.00 above the opening range high 5004.00,
// so the entry is a buy stop-limit 5006.25 (limit 5006.75), stop 5002.00.
const (
	gapTrigger = market.Price(5006.25 * market.TicksPerPoint)
	// gapHover is how long the market trades below gapTrigger after the
	// breakout bar closes: the entry must reach the venue child before its
	// last trade reaches the trigger, or the venue refuses it as a buy stop
	// at or below the last trade (broker/sim checkStopSide, as CME does).
	// At the drill's pace (gapPace) 8 minutes of data are 1.6 s of wall
	// time; the desk takes a few milliseconds from the bar's close to the
	// venue. A 4-second window here (20 ms at pace 200) lost the entry in
	// rounds run on a loaded machine.
	gapHover = 8 * time.Minute
	gapPace  = 300
)

// gapSession writes a morning (2024-03-12 ET) in which the ORB takes an
// opening-range breakout long on the 10:00–10:05 bar, the market hovers
// below the entry's trigger for gapHover, then trades up through it (the
// entry fills) and gaps 46 points through its stop. It returns how many
// trades of the file come before the gap (by then a desk has seen the
// breakout and its entry) and how many it has.
func gapSession(path string) (beforeGap, total int64, err error) { return GapSession(path) }

// GapPace is the [data] pace at which GapSession leaves the ORB's entry
// at least 1 s of wall time to reach the venue child before the market
// trades through its trigger.
const GapPace = gapPace

// GapSession is gapSession, for other tests of the built-in desk
// (cmd/deskguard's restart test): run it at GapPace or slower.
func GapSession(path string) (beforeGap, total int64, err error) {
	et := func(h, m, s int) time.Time { return time.Date(2024, 3, 12, h, m, s, 0, time.FixedZone("EDT", -4*3600)) }
	var b strings.Builder
	b.WriteString("time,price,size,side\n")
	var n int64
	add := func(at time.Time, px float64, size int, side string) {
		fmt.Fprintf(&b, "%s,%.2f,%d,%s\n", at.UTC().Format(time.RFC3339), px, size, side)
		n++
	}
	i := 0
	rng := []float64{5000, 5001, 5002, 5003, 5004, 5003, 5002, 5001}
	for at := et(9, 30, 0); at.Before(et(10, 0, 0)); at = at.Add(2 * time.Second) { // the opening range
		add(at, rng[i%len(rng)], 1, map[bool]string{true: "B", false: "S"}[i%2 == 1])
		i++
	}
	px := 5003.0
	for at := et(10, 0, 0); at.Before(et(10, 5, 0)); at = at.Add(time.Second) { // the breakout, on volume
		if i%3 != 0 {
			px = min(5006, px+0.25)
		}
		add(at, px, 6, "B")
		i++
	}
	at := et(10, 5, 0)
	for k, end := 0, at.Add(gapHover); at.Before(end); k, at = k+1, at.Add(time.Second) { // below the trigger
		add(at, []float64{5005.75, 5006}[k%2], 2, "B")
	}
	for _, lvl := range []float64{gapTrigger.Points(), gapTrigger.Points() + 0.25, gapTrigger.Points() + 0.5} { // the entry fills
		for end := at.Add(10 * time.Second); at.Before(end); at = at.Add(time.Second) {
			add(at, lvl, 2, "B")
		}
	}
	for px, end := gapTrigger.Points()+0.75, at.Add(30*time.Second); at.Before(end); at = at.Add(time.Second) {
		add(at, px, 2, "B")
		px = min(5008, px+0.25)
	}
	beforeGap = n
	for end := at.Add(5 * time.Minute); at.Before(end); at = at.Add(time.Second) { // the gap
		add(at, 4960, 2, "S")
	}
	for end := et(11, 30, 0); at.Before(end); at = at.Add(10 * time.Second) { // a quiet tail
		add(at, 4960.25, 1, "S")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return 0, 0, fmt.Errorf("drill: gap session: %w", err)
	}
	return beforeGap, n, nil
}

// lockoutLog is what a desk-lockout round's journal says about the desk
// lockout: the unlocks of the desk (account ""), and the entries and adds
// journaled between the desk_drawdown kill and the desk's unlock, refused
// and allowed (an allowed one is issue 25.3's hole).
type lockoutLog struct {
	unlocks          int
	refused          int
	allowedWhileLock []string
}

func readLockoutLog(path string) (lockoutLog, error) {
	var l lockoutLog
	j, err := journal.Open(path, journal.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return l, fmt.Errorf("drill: journal %s: %w", path, err)
	}
	defer j.Close()
	locked := false
	err = j.Iterate(0, func(r journal.Record) error {
		switch r.Kind {
		case journal.KindKill:
			k, err := r.Kill()
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err)
			}
			if k.Trigger == string(supervisor.TriggerDeskDrawdown) {
				locked = true
			}
		case journal.KindUnlock:
			if r.Account == "" {
				l.unlocks++
				locked = false
			}
		case journal.KindIntent:
			b, err := r.IntentBody()
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err)
			}
			if !locked || (b.Intent.Kind != intent.Enter && b.Intent.Kind != intent.Add) {
				return nil
			}
			if b.Decision != nil && !b.Decision.Allowed {
				l.refused++
			} else {
				l.allowedWhileLock = append(l.allowedWhileLock, fmt.Sprintf("record %d: %s %s", r.Seq, r.Account, b.Intent.Reason))
			}
		}
		return nil
	})
	if err != nil {
		return l, fmt.Errorf("drill: journal %s: %w", path, err)
	}
	return l, nil
}

// accountTail is the account's lines of st's journal tail, one a line, for
// an error that says what became of its orders.
func accountTail(st *deskapi.Status, account string) string {
	if st == nil {
		return "no status"
	}
	var b strings.Builder
	for _, l := range st.Journal {
		if l.Account == account {
			fmt.Fprintf(&b, "\n  %d %s %s", l.Seq, l.Kind, l.Text)
		}
	}
	if b.Len() == 0 {
		return "no " + account + " lines in the journal tail"
	}
	return b.String()
}

// venueRefusal is the first refusal by the venue of an L1 request in the
// journal tail of st ("" if none): a refused entry means the round's
// premise (L1 long into the gap) did not happen.
func venueRefusal(st *deskapi.Status, account string) string {
	if st == nil {
		return ""
	}
	for _, l := range st.Journal {
		if l.Account == account && l.Kind == string(journal.KindBrokerError) {
			return l.Text
		}
	}
	return ""
}

// runDeskLockout: see the file comment. The data (gapSession) leaves the
// ORB's entry trigger clear of the venue child's last trade for gapHover
// after the breakout; a refusal of the entry anyway is a clear error of
// the round (the scenario could not set up), not a silent pass.
func runDeskLockout(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	if o.Exe == "" {
		return rd, fmt.Errorf("needs the deskguard binary (Options.Exe): run it as `deskguard drill`")
	}
	data := filepath.Join(dir, "gap.csv")
	beforeGap, total, err := gapSession(data)
	if err != nil {
		return rd, err
	}
	// L1 ($10,000) loses past both lines; the desk's is 0.1% of $110,000.
	cfg, err := builtinConfig(dir, data, gapPace, "drawdown_pct = \"0.1\"\n", `
[[accounts]]
id = "L1"
start_equity = "10000.00"
strategies = ["orb"]

[[accounts]]
id = "BIG"
start_equity = "100000.00"
strategies = ["vwapmr"]
`)
	if err != nil {
		return rd, err
	}
	viol := func(f string, args ...any) { rd.viol = append(rd.viol, fmt.Sprintf(f, args...)) }
	p := &procDesk{o: o, dir: dir, cfg: cfg}
	defer p.close()
	if err := p.start(ctx); err != nil {
		return rd, err
	}
	// L1's entry first: filled (L1 long), or refused by the venue.
	refused := ""
	st, ok := p.until(ctx, func(st *deskapi.Status) bool {
		if refused = venueRefusal(st, "L1"); refused != "" {
			return true
		}
		for _, a := range st.Accounts {
			if a.ID == "L1" && (a.Position != 0 || a.State == supervisor.AcctLockedOut) {
				return true
			}
		}
		return st.DeskLockedOut || st.Trades >= total
	})
	if refused != "" {
		return rd, fmt.Errorf("the venue refused L1's breakout entry, so the desk line could not be crossed (the scenario's data or pace, not the desk): %s", refused)
	}
	if !ok || (!st.DeskLockedOut && st.Trades >= total) {
		return rd, fmt.Errorf("L1 never took the ORB's breakout entry (within %s; last: %s); L1's journal:%s", builtinBound, brief(st), accountTail(st, "L1"))
	}
	rd.faults++
	st, ok = p.until(ctx, func(st *deskapi.Status) bool { return st.DeskLockedOut && st.State == supervisor.DeskHalted })
	if !ok {
		viol("the desk past its desk-wide line was not locked out and halted within %s (last: %s)", builtinBound, brief(st))
		return rd, nil
	}
	rd.breach++
	if _, err := p.call(ctx, deskapi.Request{Op: "rearm", Reason: "drill: plain re-arm"}); err != nil {
		viol("re-arm of the halted desk: %v", err)
	}
	if st, err := p.status(ctx); err != nil || !st.DeskLockedOut {
		viol("after a plain re-arm the desk lockout is gone (issue 25.3): %s %v", brief(st), err)
	}
	// SIGKILL, and the next life on the same journal with a new venue
	// child that replays the file from its start: the breakout comes again
	// and must be refused (the journal check below).
	p.kill()
	for _, f := range p.files {
		_ = f.Close()
	}
	p.files = nil
	rd.faults++
	if err := p.start(ctx); err != nil {
		return rd, err
	}
	st, ok = p.until(ctx, func(st *deskapi.Status) bool { return st.Trades >= beforeGap })
	if !ok {
		return rd, fmt.Errorf("the restarted desk never replayed the breakout (%d trades; last: %s): %s", beforeGap, brief(st), p.tail("err"))
	}
	if !st.DeskLockedOut {
		viol("after SIGKILL and a restart on the same journal the desk lockout is gone (issue 25.2/25.3): %s", brief(st))
	}
	for _, a := range st.Accounts {
		if a.Position != 0 {
			viol("after the restart %s took a position (%d) with the desk locked out: %s", a.ID, a.Position, brief(st))
		}
	}
	if _, err := p.call(ctx, deskapi.Request{Op: "unlock_desk", Reason: "  "}); err == nil {
		viol("an unlock of the desk with a blank reason was accepted")
	}
	if st, _ := p.status(ctx); st == nil || !st.DeskLockedOut {
		viol("the desk lockout is gone after a refused unlock: %s", brief(st))
	}
	if _, err := p.call(ctx, deskapi.Request{Op: "unlock_desk", Reason: "drill: reviewed"}); err != nil {
		viol("unlock of the desk with a reason: %v", err)
	} else if st, err := p.status(ctx); err != nil || st.DeskLockedOut {
		viol("the desk still locked out after its unlock: %s %v", brief(st), err)
	}
	if err := p.stop(ctx); err != nil {
		viol("%v", err)
	}
	l, err := readLockoutLog(filepath.Join(dir, "desk.db"))
	switch {
	case err != nil:
		viol("%v", err)
	case l.unlocks != 1:
		viol("journal: %d unlocks of the desk, want 1", l.unlocks)
	}
	if err == nil && l.refused == 0 {
		viol("journal: no entry refused while the desk was locked out (want the replayed breakout refused desk_locked_out)")
	}
	for _, a := range l.allowedWhileLock {
		viol("journal: an entry allowed while the desk was locked out (issue 25.3): %s", a)
	}
	return rd, nil
}

func runFlattenStalled(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	if o.Exe == "" {
		return rd, fmt.Errorf("needs the deskguard binary (Options.Exe): run it as `deskguard drill`")
	}
	cfg, err := builtinConfig(dir, "", 120, "", `
[[accounts]]
id = "ORB1"
start_equity = "50000.00"
strategies = ["orb"]

[[accounts]]
id = "VWAP1"
start_equity = "50000.00"
strategies = ["vwapmr"]

[[accounts]]
id = "DELTA1"
start_equity = "50000.00"
strategies = ["delta"]
`)
	if err != nil {
		return rd, err
	}
	viol := func(f string, args ...any) { rd.viol = append(rd.viol, fmt.Sprintf(f, args...)) }
	p := &procDesk{o: o, dir: dir, cfg: cfg}
	defer p.close()
	if err := p.start(ctx); err != nil {
		return rd, err
	}
	// A moment into the session (seed picks how far), then the venue stops.
	rng := newRand(seed)
	want := 50 + rng.IntN(400)
	if _, ok := p.until(ctx, func(st *deskapi.Status) bool { return st.State == supervisor.DeskRunning && st.Trades >= int64(want) }); !ok {
		return rd, fmt.Errorf("the desk never ran %d trades: %s", want, p.tail("err"))
	}
	pid := p.venueChild()
	if pid <= 0 {
		return rd, fmt.Errorf("no venue child pid in the desk's output")
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return rd, fmt.Errorf("drill: SIGSTOP the venue child: %w", err)
	}
	rd.faults++
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	defer resume()
	const callers = 4
	type answer struct {
		code     int
		out, err string
	}
	answers := make([]answer, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second) // inside the socket's 30 s deadline
			defer cancel()
			cmd := exec.CommandContext(cctx, o.Exe, "flatten", "--all", "--socket", "desk.sock")
			cmd.Dir, cmd.Env = dir, append(os.Environ(), o.Env...)
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			err := cmd.Run()
			a := answer{out: so.String(), err: se.String()}
			if err != nil {
				a.code = -1
				if ee, ok := err.(*exec.ExitError); ok {
					a.code = ee.ExitCode()
				}
			}
			answers[i] = a
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.code != 0 || !strings.Contains(a.out, "accepted") {
			viol("flatten caller %d with the venue stalled: exit %d, %q %q (want exit 0, accepted, issue 25.6)", i+1, a.code,
				strings.TrimSpace(a.out), strings.TrimSpace(a.err))
		}
	}
	st, ok := p.until(ctx, func(st *deskapi.Status) bool { return st.Links.Venue == "down" && st.LastKill != nil })
	if !ok {
		viol("with the venue stalled and its liquidations unanswered, status never said venue down: %+v", brief(st))
	} else if st.LastKill.Answered {
		viol("status says the kill was answered while the venue is stopped: %+v", st.LastKill)
	}
	resume()
	st, ok = p.until(ctx, func(st *deskapi.Status) bool {
		if st.LastKill == nil || !st.LastKill.Answered || st.Links.Venue == "down" {
			return false
		}
		for _, a := range st.Accounts {
			if a.State != supervisor.AcctHalted || a.Position != 0 {
				return false
			}
		}
		return true
	})
	if !ok {
		viol("after the venue resumed the kill did not complete (every account halted and flat, the venue link back): %+v", brief(st))
	}
	if err := p.stop(ctx); err != nil {
		viol("%v", err)
	}
	return rd, nil
}

// brief is a status in one line, for a violation.
func brief(st *deskapi.Status) string {
	if st == nil {
		return "no status"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "desk %s locked_out=%v trades=%d venue=%s", st.State, st.DeskLockedOut, st.Trades, st.Links.Venue)
	for _, a := range st.Accounts {
		fmt.Fprintf(&b, "; %s %s pos %d", a.ID, a.State, a.Position)
	}
	return b.String()
}
