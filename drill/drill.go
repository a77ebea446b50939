package drill

// drill.go: the drill's options, results, the scenario table, Run and the
// printed table.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/supervisor"
)

// RoundTimeout bounds one round; a round that takes longer is reported as
// hung.
const RoundTimeout = 3 * time.Minute

// Options configure Run.
type Options struct {
	Rounds    int      // rounds per scenario (default 3)
	Seed      int64    // base seed; round i of a scenario uses Seed+i
	Scenarios []string // names to run (default: all)
	// Worker is how a worker process is started (the deskguard binary with
	// "worker", or a test binary); Exe "" uses os.Executable() + "worker".
	Worker supervisor.ProcConfig
	// Exe is the deskguard binary the process scenarios start as the
	// supervisor and the venue ("run", "venue", ...), with Env added to its
	// environment (a test binary acting as deskguard sets it there). The
	// scenarios that need it fail with a clear error when it is empty.
	Exe string
	Env []string
	// FuzzDir holds the market fuzz corpora (FuzzDBN, FuzzCSVTicks);
	// default market/testdata/fuzz under the working directory.
	FuzzDir string
	// Scale of the synthetic sessions (default 0.02: about 20,000 trades).
	Scale float64
	Log   *slog.Logger
	// Keep keeps every round's directory (journal, desk config and output)
	// instead of removing it; its path is in the progress line.
	Keep bool
	// Progress, when set, receives one line per finished round.
	Progress io.Writer
}

// Result is one scenario's line of the table.
type Result struct {
	Scenario    string        `json:"scenario"`
	Rounds      int           `json:"rounds"`
	Faults      int           `json:"faults_injected"`
	Violations  int           `json:"violations"`
	WorstRepair time.Duration `json:"worst_repair_window_ns"`
	WorstKill   time.Duration `json:"worst_kill_latency_ns"`
	Kills       int           `json:"kills"`
	Fills       int           `json:"venue_fills"`      // activity: fills at the venue
	Breaches    int           `json:"lockout_breaches"` // accounts that crossed their lockout line
	// DeadFills counts bracket legs (stops, targets) the venue filled while
	// the supervisor was dead (process-crash): the venue held the brackets.
	DeadFills int `json:"bracket_fills_while_desk_dead,omitempty"`
	// Modes counts the rounds of each of the scenario's modes (its fault
	// kinds, by seed: every mode runs in every drill, see Run).
	Modes   map[string]int `json:"modes,omitempty"`
	Details []string       `json:"details,omitempty"` // the first violations, verbatim
	Err     string         `json:"error,omitempty"`   // the scenario could not run
}

// round is one round's outcome.
type round struct {
	faults int
	viol   []string
	repair time.Duration
	kills  []supervisor.KillReport
	fills  int
	breach int
	dead   int    // bracket legs filled while the desk was dead
	mode   string // the round's mode (fault kind), for the table and a replay
}

type scenario struct {
	name string
	what string
	run  func(ctx context.Context, o *Options, seed int64, dir string) (round, error)
	// modes is how many modes (fault kinds) the scenario has; round i
	// (seed Seed+i) runs mode (Seed+i) mod modes, so consecutive rounds
	// cycle through them and Run runs at least this many rounds.
	modes int
}

func scenarios() []scenario {
	return []scenario{
		{"crash-restart", "supervisor killed at random points (after a durable append or a venue request), recovered and reconciled", runCrash, len(crashModes)},
		{"worker-faults", "worker processes: SIGKILL, SIGSTOP, panic, garbage frames, exit, intent flood", runWorkers, len(workerFaults)},
		{"journal-faults", "journal disk full, or one fdatasync failing (EIO) before or after the write: entries refused, desk degraded; restart on the same journal recovers; kill still works", runJournalFaults, len(journalModes)},
		{"slack-outage", "Slack answering 500, 429 with Retry-After, or hanging while kills happen", runSlack, len(slackModes)},
		{"button", "simulated panic button: presses of 0.5×, 0.9×, 1.1× and 2× the debounce window, a bouncing press; normally open and normally closed (a cut wire)", runButton, 2},
		{"session-edge", "drawdown breach by a gap at exactly 15:55 ET while the schedule flattens, during a kill, during a restart; before it every account past its trailing line, or flattened ahead of a news release, each with a restart in that state", runEdge, len(edgeModes)},
		{"bad-input", "DBN/CSV fuzz corpora and hostile bytes through market.Open; invalid configs; forged and replayed Slack requests", runBadInput, 0},
		{"process-crash", "real processes: the supervisor (with worker children) SIGKILLed at random moments while trading on a venue on loopback, restarted on the same journal", runProcessCrash, 0},
		{"venue-faults", "real processes: the venue drops its WebSockets, answers 5xx before and after acting, issues penalty tickets, expires tokens and restarts while the desk trades", runVenueFaults, 0},
		{"firm", "three desks and the firm on a real NATS server: NATS and the aggregator killed and restarted, a firm kill during one desk's partition; nothing lost or counted twice, acknowledged desks flat", runFirmScenario, 0},
		{"process-crash-rithmic", "process-crash over R|Protocol: the desk trades on the drill's venue as a Rithmic gateway (order, PnL and ticker plants)", runProcessCrashRithmic, 0},
		{"venue-faults-rithmic", "real processes over R|Protocol: the venue drops its sockets, forces logouts (77), rejects (75), sends 351s late, takes one plant down, drops a connection before or after acting on a new order, and restarts", runVenueFaultsRithmic, 0},
		{"flatten-stalled", "the built-in desk's venue child SIGSTOPped: four concurrent `deskguard flatten --all` each answered at once (accepted, not yet confirmed), status shows the venue down; after SIGCONT every account halted and flat (issue 25.6)", runFlattenStalled, 0},
		{"desk-lockout", "the built-in desk past its desk-wide drawdown line (a gap through the ORB's stop): locked out and halted; a plain re-arm, SIGKILL and a restart on the same journal leave it locked out; a blank-reason unlock refused, a reasoned one lifts it (issue 25.2, 25.3)", runDeskLockout, 0},
		{"hostile-requests", "the running desk binary: forged, stale and replayed console and control-socket requests, wrong roles, missing CSRF; path tricks in file arguments", runHostile, 0},
	}
}

// Names lists the scenarios in the order Run runs them, with a line each.
func Names() [][2]string {
	var out [][2]string
	for _, s := range scenarios() {
		out = append(out, [2]string{s.name, s.what})
	}
	return out
}

// Run runs the chosen scenarios, each for o.Rounds rounds, and returns
// their results. An error means a scenario name was unknown; a scenario
// that could not run has its Err set.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.Scale <= 0 {
		o.Scale = 0.02
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.FuzzDir == "" {
		o.FuzzDir = "market/testdata/fuzz"
	}
	all := scenarios()
	chosen := all
	if len(o.Scenarios) > 0 {
		chosen = nil
		for _, name := range o.Scenarios {
			found := false
			for _, s := range all {
				if s.name == name {
					chosen, found = append(chosen, s), true
				}
			}
			if !found {
				return nil, fmt.Errorf("drill: unknown scenario %q", name)
			}
		}
	}
	var out []Result
	for _, s := range chosen {
		res := Result{Scenario: s.name}
		// Every mode of the scenario, however few rounds were asked for.
		rounds := max(o.Rounds, s.modes)
		for i := 0; i < rounds; i++ {
			if ctx.Err() != nil {
				res.Err = ctx.Err().Error()
				break
			}
			dir, err := os.MkdirTemp("", "deskguard-drill-")
			if err != nil {
				return out, fmt.Errorf("drill: %w", err)
			}
			type out struct {
				rd  round
				err error
			}
			ch := make(chan out, 1)
			go func(seed int64) {
				rd, err := s.run(ctx, &o, seed, dir)
				ch <- out{rd, err}
			}(o.Seed + int64(i))
			var rd round
			select {
			case x := <-ch:
				rd, err = x.rd, x.err
				if !o.Keep {
					_ = os.RemoveAll(dir)
				}
			case <-time.After(RoundTimeout):
				// A hung desk is a finding; the round's goroutine is
				// abandoned (it holds the desk's locks) and the drill goes on.
				err = fmt.Errorf("hung for %s (a deadlock in the desk?); its files are kept in %s", RoundTimeout, dir)
			}
			if err != nil {
				res.Err = fmt.Sprintf("round %d: %v", i+1, err)
				break
			}
			res.Rounds++
			if rd.mode != "" {
				if res.Modes == nil {
					res.Modes = map[string]int{}
				}
				res.Modes[rd.mode]++
			}
			res.Faults += rd.faults
			res.Violations += len(rd.viol)
			res.Fills += rd.fills
			res.Breaches += rd.breach
			res.DeadFills += rd.dead
			for _, v := range rd.viol {
				if len(res.Details) < 10 {
					res.Details = append(res.Details, fmt.Sprintf("round %d (seed %d%s): %s", i+1, o.Seed+int64(i), modeText(rd.mode), v))
				}
			}
			if rd.repair > res.WorstRepair {
				res.WorstRepair = rd.repair
			}
			for _, k := range rd.kills {
				res.Kills++
				if k.TotalNs > res.WorstKill {
					res.WorstKill = k.TotalNs
				}
			}
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "drill: %s round %d/%d (seed %d%s): %d faults, %d violations\n", s.name, i+1, rounds,
					o.Seed+int64(i), modeText(rd.mode), rd.faults, len(rd.viol))
				if o.Keep {
					fmt.Fprintf(o.Progress, "drill: kept %s\n", dir)
				}
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// Failed reports whether any result has a violation or could not run.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Violations > 0 || r.Err != "" {
			return true
		}
	}
	return false
}

// WriteTable prints the results as the drill's table.
func WriteTable(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trounds\tfaults injected\tviolations\tworst repair window\tkills\tworst kill latency\tvenue fills\tlockouts\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%s\t%d\t%d\t\n", r.Scenario, r.Rounds, r.Faults, r.Violations, dur(r.WorstRepair), r.Kills, dur(r.WorstKill), r.Fills, r.Breaches)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if len(r.Modes) > 0 {
			var ms []string
			for _, m := range sortedKeys(r.Modes) {
				ms = append(ms, fmt.Sprintf("%s %d", m, r.Modes[m]))
			}
			fmt.Fprintf(w, "%s: rounds by mode: %s\n", r.Scenario, strings.Join(ms, ", "))
		}
		if r.DeadFills > 0 {
			fmt.Fprintf(w, "%s: %d bracket legs filled at the venue while the supervisor was dead\n", r.Scenario, r.DeadFills)
		}
		if r.Err != "" {
			fmt.Fprintf(w, "%s: could not run: %s\n", r.Scenario, r.Err)
		}
		for _, d := range r.Details {
			fmt.Fprintf(w, "%s: VIOLATION %s\n", r.Scenario, d)
		}
	}
	return nil
}

// WriteJSON prints the results as JSON.
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}

func modeText(m string) string {
	if m == "" {
		return ""
	}
	return ", mode " + m
}

// modeOf is the mode of the round with this seed.
func modeOf(seed int64, modes []string) string { return modes[int(uint64(seed)%uint64(len(modes)))] }

func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	default:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	}
}

// sessionTrades returns a seeded synthetic RTH session.
func sessionTrades(seed int64, scale float64) ([]market.Trade, error) {
	regimes := []synth.Regime{synth.Trend, synth.Range, synth.Mixed}
	return synth.Generate(synth.Options{Seed: seed, Scale: scale, Regime: regimes[int(uint64(seed)%3)]})
}

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0x5eed)) }

// sortedKeys is a helper for deterministic output.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// joinViol prefixes violations with a fault's description.
func joinViol(prefix string, vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.TrimSpace(prefix + ": " + v)
	}
	return out
}
