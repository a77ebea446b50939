package main

// cmd_replay.go: deskguard replay — a whole session through the whole
// pipeline in one process (engines, gate, journal, matching engine) as fast
// as possible, with a summary.

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

func cmdReplay(e *env) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "desk config (default: the built-in desk)")
	data := fs.String("data", "", "data file (DBN, Lean minute zip, CSV ticks); default: the synthetic session")
	seed := fs.Int64("synth", 0, "synthetic session seed (overrides the config's)")
	regime := fs.String("regime", "", "synthetic regime: trend, range, mixed")
	jpath := fs.String("journal", "", "journal file to write (default: a temporary file, removed afterwards)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the replay to this file")
	if !parseFlags(e, fs) {
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(filepath.Clean(*cpuprofile))
		if err != nil {
			return fail(e, "replay", err, 1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(e, "replay", err, 1)
		}
		defer pprof.StopCPUProfile()
	}
	c, err := loadConfig(*cfgPath)
	if err != nil {
		return fail(e, "replay", err, 2)
	}
	if *data != "" {
		c.Data.File = *data
	}
	if *seed != 0 {
		c.Data.Seed = *seed
	}
	if *regime != "" {
		c.Data.Regime = *regime
	}
	feed, closeFeed, what, derived, err := openFeed(c)
	if err != nil {
		return fail(e, "replay", err, 2)
	}
	defer closeFeed()
	log := newLogger(e.stderr, "warn")
	path := *jpath
	if path == "" {
		dir, err := os.MkdirTemp("", "deskguard-replay-")
		if err != nil {
			return fail(e, "replay", err, 1)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "replay.db")
	}
	clock := market.NewReplayClock(time.Unix(0, 0))
	j, err := journal.Open(path, journal.Options{Clock: clock, Log: log})
	if err != nil {
		return fail(e, "replay", err, 1)
	}
	defer j.Close()
	specs, ids := specsWithIDs(c)
	venue, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		return fail(e, "replay", err, 1)
	}
	defer venue.Close()
	lim := c.Limits
	lim.MaxDataAge = 0 // a replay has no stale data
	opt := supervisor.Options{Clock: clock, Log: log, Journal: supervisor.JournalOf(j), Broker: venue,
		Limits: lim, DeskDrawdownPct: c.Desk.DrawdownPct, Accounts: specs, Engines: c.Strategies, Schedule: c.Schedule,
		Workers: supervisor.InProcess, ManualUnlock: c.Desk.ManualUnlock}
	if err := withRisk(&opt, c); err != nil {
		return fail(e, "replay", err, 2)
	}
	d, err := supervisor.New(opt)
	if err != nil {
		return fail(e, "replay", err, 2)
	}
	sum, err := supervisor.Replay(e.ctx, d, feed, venue, clock)
	if err != nil {
		return fail(e, "replay", err, 1)
	}
	sum.Derived = derived
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sum)
		return 0
	}
	fmt.Fprintf(e.stdout, "replayed %s: %d trades in %d ms\n", what, sum.Trades, sum.ElapsedMs)
	for _, a := range sum.Accounts {
		fmt.Fprintf(e.stdout, "  %-8s %-8s orders %3d fills %3d trips %3d (W%d/L%d) net %9s fees %7s maxDD %8s state %s%s\n",
			a.ID, a.Strategies, a.Orders, a.Fills, a.RoundTrips, a.Wins, a.Losses, a.Net, a.Fees, a.MaxDrawdown, a.State,
			map[bool]string{true: " LOCKED OUT", false: ""}[a.LockedOut])
		if len(a.Rejections) > 0 {
			fmt.Fprintf(e.stdout, "           rejections %v\n", a.Rejections)
		}
	}
	fmt.Fprintf(e.stdout, "desk net %s, state %s\n", sum.Desk.Net, sum.Desk.State)
	if len(sum.Rejections) > 0 {
		fmt.Fprintf(e.stdout, "rejections by reason %v\n", sum.Rejections)
	}
	if derived {
		fmt.Fprintln(e.stdout, "note: trades were derived from one-minute bars")
	}
	return 0
}
