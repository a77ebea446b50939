// Command mutate runs deskguard's mutation suite (package
// internal/mutate): every mutant of the list applied to a fresh copy of
// the module, its package's tests run against it, a table of mutant →
// package → the test that killed it. Exit 0 when every mutant is killed,
// 1 when one survived, is stale or broken, 2 on bad usage.
//
//	go run ./internal/mutate/cmd/mutate                 # the whole list, 2 at a time
//	go run ./internal/mutate/cmd/mutate -check          # only check every snippet still matches the code
//	go run ./internal/mutate/cmd/mutate -only lockout-at-1-6-pct,no-debounce
//	go run ./internal/mutate/cmd/mutate -markdown /tmp/mutants.md  # also RELIABILITY.md's table
//
// It may touch only copies of the module in a temporary directory (the
// working tree is read, never written) and the go command.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/deskguard/deskguard/internal/mutate"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	root := fs.String("root", "", "module root to copy (default: the module of the current directory)")
	list := fs.String("list", "", "mutant list (default: <root>/internal/mutate/mutants.toml)")
	only := fs.String("only", "", "comma-separated mutant names to run (default: all)")
	parallel := fs.Int("parallel", 2, "mutants run at once")
	timeout := fs.Duration("timeout", 5*time.Minute, "go test -timeout for one mutant")
	check := fs.Bool("check", false, "only check that every mutant's snippet is in the code exactly once")
	baseline := fs.Bool("baseline", true, "run the packages unmutated first (a red baseline stops the run)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	mdOut := fs.String("markdown", "", "also write the results as RELIABILITY.md's table (mutant, the bug, file, killed by) to this file")
	work := fs.String("work", "", "directory for the copies (default: a temporary one, removed after)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mutate: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *root == "" {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		gomod := strings.TrimSpace(string(out))
		if err != nil || gomod == "" || gomod == os.DevNull {
			fmt.Fprintln(os.Stderr, "mutate: not inside a module; pass -root")
			return 2
		}
		*root = filepath.Dir(gomod)
	}
	if *list == "" {
		*list = filepath.Join(*root, "internal", "mutate", "mutants.toml")
	}
	ms, err := mutate.Load(*list)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if *only != "" {
		var sel []mutate.Mutant
		for _, name := range strings.Split(*only, ",") {
			found := false
			for _, m := range ms {
				if m.Name == strings.TrimSpace(name) {
					sel, found = append(sel, m), true
				}
			}
			if !found {
				fmt.Fprintf(os.Stderr, "mutate: no mutant named %q in %s\n", name, *list)
				return 2
			}
		}
		ms = sel
	}
	if *check {
		bad := 0
		for i := range ms {
			if _, err := ms[i].Locate(*root); err != nil {
				fmt.Println(err)
				bad++
			}
		}
		fmt.Printf("mutants: %d match the code, %d stale\n", len(ms)-bad, bad)
		if bad > 0 {
			return 1
		}
		return 0
	}

	var env []string
	// Tests that read ../shared/data find it from the copy through this.
	if shared := filepath.Join(*root, "..", "shared", "data"); dirExists(shared) && os.Getenv("DESKGUARD_SHARED_DATA") == "" {
		abs, _ := filepath.Abs(shared)
		env = append(env, "DESKGUARD_SHARED_DATA="+abs)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	fmt.Printf("mutation suite: %d mutants from %s, %d at a time, go test -timeout %s\n", len(ms), *list, *parallel, *timeout)
	rs, err := mutate.Run(ctx, ms, mutate.Options{Root: *root, Work: *work, Parallel: *parallel, Timeout: *timeout,
		Env: env, Baseline: *baseline, Progress: os.Stdout})
	if err != nil && rs == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println()
	mutate.Table(os.Stdout, rs)
	fmt.Printf("wall time %s\n", time.Since(start).Round(time.Second))
	for _, r := range rs {
		if r.Status != mutate.Killed && r.Detail != "" {
			fmt.Printf("%s: %s\n", r.Name, r.Detail)
		}
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rs, "", "  ")
		if werr := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, werr)
			return 1
		}
	}
	if *mdOut != "" {
		var b strings.Builder
		mutate.Markdown(&b, rs)
		if werr := os.WriteFile(*mdOut, []byte(b.String()), 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, werr)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if !mutate.Passed(rs) {
		fmt.Println("mutation suite FAILED: every mutant must be killed by a test of its package")
		return 1
	}
	return 0
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
