package main

// cmd_drill.go: deskguard drill — the fault drill (package drill): runs
// its scenarios, prints the table, and exits 1 on any invariant violation.

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/deskguard/deskguard/drill"
	"github.com/deskguard/deskguard/supervisor"
)

func cmdDrill(e *env) int {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	rounds := fs.Int("rounds", 3, "rounds per scenario")
	seed := fs.Int64("seed", 1, "base seed (round i uses seed+i)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	scen := fs.String("scenario", "", "comma-separated scenarios to run (default: all; see --list)")
	list := fs.Bool("list", false, "list the scenarios and exit")
	scale := fs.Float64("scale", 0.02, "synthetic session size (1 = about a million trades)")
	fuzz := fs.String("fuzz-dir", "market/testdata/fuzz", "market fuzz corpora (FuzzDBN, FuzzCSVTicks)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	keep := fs.Bool("keep", false, "keep each round's directory (journal, config, desk output) and print its path")
	if !parseFlags(e, fs) {
		return 2
	}
	if *list {
		for _, s := range drill.Names() {
			fmt.Fprintf(e.stdout, "%-14s %s\n", s[0], s[1])
		}
		return 0
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(e, "drill", err, 1)
	}
	o := drill.Options{Rounds: *rounds, Seed: *seed, Scale: *scale, FuzzDir: *fuzz,
		Worker: supervisor.ProcConfig{Exe: exe, Args: []string{"worker"}}, Exe: exe}
	o.Keep = *keep
	if *scen != "" {
		o.Scenarios = strings.Split(*scen, ",")
	}
	if !*quiet {
		o.Progress = e.stderr
	}
	rs, err := drill.Run(e.ctx, o)
	if err != nil {
		return fail(e, "drill", err, 2)
	}
	if *asJSON {
		_ = drill.WriteJSON(e.stdout, rs)
	} else {
		fmt.Fprintf(e.stdout, "deskguard drill --rounds %d --seed %d\n", *rounds, *seed)
		_ = drill.WriteTable(e.stdout, rs)
	}
	if drill.Failed(rs) {
		fmt.Fprintln(e.stderr, "deskguard drill: FAILED (invariant violations or scenarios that could not run)")
		return 1
	}
	return 0
}
