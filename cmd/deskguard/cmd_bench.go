package main

// cmd_bench.go: deskguard bench — the figures that matter (gate, journal,
// worker round trip, kill path, replay), each beside this machine's floor
// measured in the same run on the same disk; a table or JSON
// {name: {p50, p99, unit, floor_p50, floor_p99, ratio, ...}}.

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/deskguard/deskguard/bench"
)

func cmdBench(e *env) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON: {name: {p50, p99, unit, floor_p50, floor_p99, ratio, ...}}")
	short := fs.Bool("short", false, "tiny iteration counts (CI): checks that every figure can be measured, nothing more")
	dir := fs.String("dir", "", "directory on the disk to measure (journal, fsync); default the system temp dir")
	only := fs.String("only", "", "comma-separated figures to run (default all: "+strings.Join(bench.Names(), ",")+")")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if !parseFlags(e, fs) {
		return 2
	}
	opt := bench.Options{Dir: *dir, Short: *short}
	if *only != "" {
		known := map[string]bool{}
		for _, n := range bench.Names() {
			known[n] = true
		}
		for _, n := range strings.Split(*only, ",") {
			n = strings.TrimSpace(n)
			if !known[n] {
				fmt.Fprintf(e.stderr, "deskguard bench: --only: unknown figure %q (known: %s)\n", n, strings.Join(bench.Names(), ", "))
				return 2
			}
			opt.Only = append(opt.Only, n)
		}
	}
	if *verbose {
		opt.Log = newLogger(e.stderr, "info")
	}
	if *dir != "" {
		if fi, err := os.Stat(*dir); err != nil || !fi.IsDir() {
			fmt.Fprintf(e.stderr, "deskguard bench: --dir %s: not a directory\n", *dir)
			return 2
		}
	}
	t0 := time.Now()
	res, err := bench.Run(e.ctx, opt)
	if err != nil {
		return fail(e, "bench", err, 1)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return 1
		}
		return 0
	}
	host, _ := os.Hostname()
	fmt.Fprintf(e.stdout, "deskguard bench%s: %d CPUs, %s/%s, %s, host %s, took %.1fs\n\n", map[bool]string{true: " --short", false: ""}[*short],
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), host, time.Since(t0).Seconds())
	if err := res.WriteText(e.stdout); err != nil {
		return 1
	}
	return 0
}
