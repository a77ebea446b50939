// run.go: running the suite. Each mutant gets a fresh copy of the module
// (one directory per worker, copied again for every mutant so nothing of a
// previous mutant survives, at the same path so the build cache still
// serves every package the mutant did not touch), the mutant is applied to
// the copy, and `go test -json` runs the mutant's packages. A failing test
// kills it; a test binary that hits its timeout kills it too (the test that
// was running is named); a mutant that does not build is broken (the list
// is wrong), and one whose snippet is gone is stale. Before any mutant the
// same tests run once unmutated (a package with a -run pattern for each of
// its mutants only those tests): a red baseline would make every mutant
// look killed, so it stops the run.

package mutate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Status is what became of a mutant.
type Status string

// Statuses. Only Killed passes.
const (
	Killed   Status = "killed"
	Survived Status = "SURVIVED"
	Stale    Status = "STALE"  // the original snippet is not in the code exactly once
	Broken   Status = "BROKEN" // the mutated copy does not build, or the runner failed
)

// Result is one mutant's outcome.
type Result struct {
	Name     string        `json:"name"`
	Why      string        `json:"why"` // the rule the bug breaks (Mutant.Why)
	File     string        `json:"file"`
	Packages []string      `json:"packages"`
	Status   Status        `json:"status"`
	KilledBy []string      `json:"killed_by,omitempty"` // "TestX" or "TestX/sub", package-qualified when several ran
	Timeout  bool          `json:"timeout,omitempty"`   // killed by go test's -timeout
	Detail   string        `json:"detail,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// Options configure Run.
type Options struct {
	Root     string        // the module to copy (never modified)
	Work     string        // where the copies go; "" = a new temporary directory, removed after
	Parallel int           // mutants at once (default 2)
	Timeout  time.Duration // go test -timeout for one mutant (default 5m)
	Go       string        // the go command (default "go")
	Env      []string      // extra environment for go test
	Baseline bool          // run the packages unmutated first
	Progress io.Writer     // a line per mutant as it finishes; nil = quiet
}

// Run applies each mutant to a fresh copy of opt.Root and runs its
// packages' tests. It returns one result per mutant, in list order; the
// error is for a run that could not judge the mutants at all (no work
// directory, a red baseline).
func Run(ctx context.Context, ms []Mutant, opt Options) ([]Result, error) {
	if opt.Parallel <= 0 {
		opt.Parallel = 2
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Minute
	}
	if opt.Go == "" {
		opt.Go = "go"
	}
	root, err := filepath.Abs(opt.Root)
	if err != nil {
		return nil, fmt.Errorf("mutate: root: %w", err)
	}
	opt.Root = root
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return nil, fmt.Errorf("mutate: %s is not a module root: %w", root, err)
	}
	work := opt.Work
	if work == "" {
		if work, err = os.MkdirTemp("", "deskguard-mutate-"); err != nil {
			return nil, fmt.Errorf("mutate: work dir: %w", err)
		}
		defer os.RemoveAll(work)
	}

	results := make([]Result, len(ms))
	var todo []int
	for i := range ms {
		m := &ms[i]
		results[i] = Result{Name: m.Name, Why: m.Why, File: m.File, Packages: m.Pkgs()}
		if _, err := m.Locate(root); err != nil {
			results[i].Status, results[i].Detail = Stale, err.Error()
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return results, nil
	}
	if opt.Baseline {
		dir := filepath.Join(work, "baseline")
		if err := CopyTree(root, dir); err != nil {
			return nil, fmt.Errorf("mutate: baseline copy: %w", err)
		}
		for _, b := range baselineSets(ms, todo) {
			start := time.Now()
			out, err := goTest(ctx, opt, dir, b.Pkgs, b.Run, 2*opt.Timeout)
			if err != nil || out.failed() {
				return nil, fmt.Errorf("mutate: the baseline (unmutated) tests of %s fail, so no mutant can be judged: %s",
					b, out.summary(err))
			}
			if opt.Progress != nil {
				fmt.Fprintf(opt.Progress, "baseline: %s pass unmutated (%s)\n", b, time.Since(start).Round(time.Second))
			}
		}
		_ = os.RemoveAll(dir)
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	var pmu sync.Mutex
	for w := 0; w < opt.Parallel; w++ {
		wg.Add(1)
		go func(dir string) {
			defer wg.Done()
			for i := range jobs {
				r := runOne(ctx, &ms[i], opt, dir)
				results[i] = r
				if opt.Progress != nil {
					pmu.Lock()
					fmt.Fprintf(opt.Progress, "%-40s %-9s %s (%s)\n", r.Name, r.Status, r.killers(), r.Elapsed.Round(100*time.Millisecond))
					pmu.Unlock()
				}
			}
		}(filepath.Join(work, fmt.Sprintf("w%d", w)))
	}
	for _, i := range todo {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	for _, i := range todo {
		if results[i].Status == "" {
			results[i].Status, results[i].Detail = Broken, "not run: "+context.Cause(ctx).Error()
		}
	}
	return results, ctx.Err()
}

// BaselineSet is one unmutated go test run of the baseline: packages and
// a -run pattern ("" = every test).
type BaselineSet struct {
	Pkgs []string
	Run  string
}

func (b BaselineSet) String() string {
	if b.Run == "" {
		return strings.Join(b.Pkgs, " ")
	}
	return strings.Join(b.Pkgs, " ") + " -run '" + b.Run + "'"
}

// baselineSets is what the baseline must run: exactly the tests the
// mutants will run, unmutated. A package some mutant tests in full runs in
// full (all of those in one go test); a package whose every mutant names a
// -run pattern runs only those patterns (alternated), so a package whose
// mutants need only a few of its tests is not run whole.
func baselineSets(ms []Mutant, todo []int) []BaselineSet {
	var pkgs []string
	runs := map[string][]string{} // package → its mutants' patterns
	full := map[string]bool{}
	for _, i := range todo {
		m := &ms[i]
		for _, p := range m.Pkgs() {
			if !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
			switch {
			case m.Run == "" || strings.Contains(m.Run, "/"):
				// A subtest pattern ('/' splits -run by level) cannot be
				// alternated with others: the package runs whole.
				full[p] = true
			case !slices.Contains(runs[p], m.Run):
				runs[p] = append(runs[p], m.Run)
			}
		}
	}
	var out []BaselineSet
	var whole []string
	for _, p := range pkgs {
		if full[p] {
			whole = append(whole, p)
		}
	}
	if len(whole) > 0 {
		out = append(out, BaselineSet{Pkgs: whole})
	}
	for _, p := range pkgs {
		if !full[p] {
			out = append(out, BaselineSet{Pkgs: []string{p}, Run: strings.Join(runs[p], "|")})
		}
	}
	return out
}

func runOne(ctx context.Context, m *Mutant, opt Options, dir string) (r Result) {
	r = Result{Name: m.Name, Why: m.Why, File: m.File, Packages: m.Pkgs()}
	start := time.Now()
	defer func() { r.Elapsed = time.Since(start) }()
	if err := ctx.Err(); err != nil {
		r.Status, r.Detail = Broken, "not run: "+err.Error()
		return r
	}
	if err := os.RemoveAll(dir); err != nil {
		r.Status, r.Detail = Broken, err.Error()
		return r
	}
	if err := CopyTree(opt.Root, dir); err != nil {
		r.Status, r.Detail = Broken, err.Error()
		return r
	}
	if err := m.Apply(dir); err != nil {
		r.Status, r.Detail = Stale, err.Error()
		if !errors.Is(err, ErrStale) {
			r.Status = Broken
		}
		return r
	}
	out, err := goTest(ctx, opt, dir, m.Pkgs(), m.Run, opt.Timeout)
	switch {
	case out.buildFailed:
		r.Status, r.Detail = Broken, "the mutated copy does not build: "+out.summary(nil)
	case err != nil && !out.exited:
		r.Status, r.Detail = Broken, out.summary(err)
	case len(out.failedTests) > 0:
		r.Status, r.KilledBy = Killed, out.killers(len(m.Pkgs()) > 1)
		r.Timeout = out.timeout
	case out.failed():
		r.Status, r.Detail = Killed, out.summary(nil)
		r.KilledBy = []string{"(package failed without a failing test: see detail)"}
	default:
		r.Status = Survived
		if out.tests == 0 {
			r.Detail = "no test ran"
		}
	}
	return r
}

// testOutcome is what one go test -json run said.
type testOutcome struct {
	exited      bool
	exitCode    int
	tests       int                 // test start events seen
	failedTests map[string][]string // package → failed tests (leaves)
	failedPkgs  []string
	buildFailed bool
	timeout     bool
	tail        []string // last output lines, for the detail
}

func (o *testOutcome) failed() bool {
	return o.exitCode != 0 || len(o.failedTests) > 0 || len(o.failedPkgs) > 0 || o.buildFailed
}

// killers lists the failed tests: leaves only (a subtest's parent fails
// with it), package-qualified when several packages ran.
func (o *testOutcome) killers(qualify bool) []string {
	var out []string
	pkgs := make([]string, 0, len(o.failedTests))
	for p := range o.failedTests {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		names := o.failedTests[p]
		for _, n := range names {
			leaf := true
			for _, other := range names {
				if strings.HasPrefix(other, n+"/") {
					leaf = false
					break
				}
			}
			if !leaf {
				continue
			}
			if qualify {
				n = p[strings.LastIndex(p, "/")+1:] + "." + n
			}
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

func (o *testOutcome) summary(err error) string {
	var b strings.Builder
	if err != nil {
		b.WriteString(err.Error())
	}
	if len(o.failedTests) > 0 {
		fmt.Fprintf(&b, " failed: %s", strings.Join(o.killers(true), ", "))
	}
	if len(o.tail) > 0 {
		b.WriteString(" | ")
		b.WriteString(strings.Join(o.tail, " | "))
	}
	return strings.TrimSpace(b.String())
}

// event is one line of go test -json (cmd/test2json), with the build
// events of Go 1.24 and later.
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

func goTest(ctx context.Context, opt Options, dir string, pkgs []string, run string, timeout time.Duration) (*testOutcome, error) {
	args := []string{"test", "-json", "-count=1", "-failfast", "-vet=off", "-timeout", timeout.String()}
	if run != "" {
		args = append(args, "-run", run)
	}
	args = append(args, pkgs...)
	// Compiling comes on top of the test binaries' own timeout.
	cctx, cancel := context.WithTimeout(ctx, timeout+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, opt.Go, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), opt.Env...)
	setProcessGroup(cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return &testOutcome{}, err
	}
	if err := cmd.Start(); err != nil {
		return &testOutcome{}, fmt.Errorf("mutate: start %s: %w", opt.Go, err)
	}
	o := parse(stdout)
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		o.exited = true
	case errors.As(err, &ee) && cctx.Err() == nil:
		o.exited, o.exitCode, err = true, ee.ExitCode(), nil
	case cctx.Err() != nil:
		err = fmt.Errorf("mutate: go test did not finish within %s: %w", timeout+5*time.Minute, cctx.Err())
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" {
			o.tail = appendTail(o.tail, l)
		}
		if strings.Contains(l, "[build failed]") || strings.Contains(l, "[setup failed]") {
			o.buildFailed = true
		}
	}
	return o, err
}

func appendTail(tail []string, l string) []string {
	const keep = 8
	tail = append(tail, strings.TrimSpace(l))
	if len(tail) > keep {
		tail = tail[len(tail)-keep:]
	}
	return tail
}

// parse reads go test -json output.
func parse(r io.Reader) *testOutcome {
	o := &testOutcome{failedTests: map[string][]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	// The tests a timed-out binary says were running: "running tests:" then
	// one "\tTestX (1m0s)" line each.
	inRunning := map[string]bool{}
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			if s := strings.TrimSpace(string(line)); s != "" {
				o.tail = appendTail(o.tail, s)
			}
			continue
		}
		out := strings.TrimRight(ev.Output, "\n")
		switch ev.Action {
		case "build-fail":
			o.buildFailed = true
		case "build-output":
			o.tail = appendTail(o.tail, out)
		case "run":
			o.tests++
		case "fail":
			if ev.Test != "" {
				o.failedTests[ev.Package] = append(o.failedTests[ev.Package], ev.Test)
			} else {
				o.failedPkgs = append(o.failedPkgs, ev.Package)
			}
		case "output":
			switch {
			case strings.HasPrefix(out, "panic: test timed out"):
				o.timeout = true
				o.tail = appendTail(o.tail, out)
			case strings.TrimSpace(out) == "running tests:":
				inRunning[ev.Package] = true
			case inRunning[ev.Package] && strings.HasPrefix(out, "\t") && strings.TrimSpace(out) != "":
				name, _, _ := strings.Cut(strings.TrimSpace(out), " ")
				if name != "" && !slices.Contains(o.failedTests[ev.Package], name) {
					o.failedTests[ev.Package] = append(o.failedTests[ev.Package], name)
				}
			case inRunning[ev.Package]:
				inRunning[ev.Package] = false
			case strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]"):
				o.buildFailed = true
				o.tail = appendTail(o.tail, out)
			case ev.Test == "" && strings.HasPrefix(out, "FAIL"):
				o.tail = appendTail(o.tail, out)
			}
		}
	}
	return o
}

func (r Result) killers() string {
	if len(r.KilledBy) > 0 {
		s := strings.Join(r.KilledBy, ", ")
		if r.Timeout {
			s += " (timeout)"
		}
		return s
	}
	return r.Detail
}

// Passed reports whether every mutant was killed.
func Passed(rs []Result) bool {
	for _, r := range rs {
		if r.Status != Killed {
			return false
		}
	}
	return len(rs) > 0
}

// Table writes the results as a plain-text table: mutant → package → the
// test that killed it, and a closing count line.
func Table(w io.Writer, rs []Result) {
	nw, pw := len("mutant"), len("package")
	for _, r := range rs {
		nw = max(nw, len(r.Name))
		pw = max(pw, len(strings.Join(r.Packages, " ")))
	}
	fmt.Fprintf(w, "%-*s  %-*s  %-8s  %s\n", nw, "mutant", pw, "package", "status", "killed by")
	killed := 0
	for _, r := range rs {
		if r.Status == Killed {
			killed++
		}
		fmt.Fprintf(w, "%-*s  %-*s  %-8s  %s\n", nw, r.Name, pw, strings.Join(r.Packages, " "), r.Status, r.killers())
	}
	fmt.Fprintf(w, "mutants: %d killed, %d not killed\n", killed, len(rs)-killed)
}

// Markdown writes the results as RELIABILITY.md's table: mutant, the bug
// (the rule it breaks), file, and the test that killed it — or the
// mutant's status and why, for one that was not killed.
func Markdown(w io.Writer, rs []Result) {
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	code := func(s string) string { return "`" + s + "`" }
	fmt.Fprintln(w, "| mutant | the bug (the rule it breaks) | file | killed by |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rs {
		by := ""
		if r.Status == Killed {
			var ks []string
			for _, k := range r.KilledBy {
				ks = append(ks, code(k))
			}
			by = strings.Join(ks, ", ")
			if r.Timeout {
				by += " (timeout)"
			}
		} else {
			by = "**" + string(r.Status) + "**"
			if r.Detail != "" {
				by += ": " + r.Detail
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", code(r.Name), cell(r.Why), code(r.File), cell(by))
	}
}
