// mutate_test.go: the runner's own tests — the list's checks, exact
// snippet matching, the go test -json parser, and a whole run over a tiny
// module with a killed, a surviving, a stale, a broken and a hanging
// mutant. TestMutantsMatchTheCode keeps the real list honest in every
// `go test ./...`: a mutant whose snippet left the code fails it.

package mutate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMutantsMatchTheCode(t *testing.T) {
	ms, err := Load("mutants.toml")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..")
	for i := range ms {
		if _, err := ms[i].Locate(root); err != nil {
			t.Errorf("%v", err)
		}
		for _, p := range ms[i].Pkgs() {
			if st, err := os.Stat(filepath.Join(root, p)); err != nil || !st.IsDir() {
				t.Errorf("%s: package %s is not a directory of the module", ms[i].Name, p)
			}
		}
	}
}

func writeList(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadRefusesBadLists(t *testing.T) {
	ok := "name = \"a-b\"\nwhy = \"w\"\nfile = \"p/x.go\"\noriginal = 'x'\nmutated = 'y'\n"
	for _, c := range []struct{ name, body, want string }{
		{"empty", "", "no mutants"},
		{"unknown key", "[[mutant]]\n" + ok + "bogus = 1\n", "unknown key"},
		{"bad name", "[[mutant]]\n" + strings.Replace(ok, "a-b", "A B", 1), "kebab-case"},
		{"duplicate", "[[mutant]]\n" + ok + "[[mutant]]\n" + ok, "duplicate"},
		{"no why", "[[mutant]]\n" + strings.Replace(ok, `why = "w"`, `why = " "`, 1), "no why"},
		{"outside", "[[mutant]]\n" + strings.Replace(ok, "p/x.go", "../x.go", 1), "inside the module"},
		{"absolute", "[[mutant]]\n" + strings.Replace(ok, "p/x.go", "/p/x.go", 1), "inside the module"},
		{"test file", "[[mutant]]\n" + strings.Replace(ok, "p/x.go", "p/x_test.go", 1), "non-test"},
		{"no change", "[[mutant]]\n" + strings.Replace(ok, "'y'", "'x'", 1), "equals original"},
		{"empty original", "[[mutant]]\n" + strings.Replace(ok, "'x'", "''", 1), "empty original"},
		{"package form", "[[mutant]]\n" + ok + "packages = [\"limits\"]\n", "must start with ./"},
	} {
		_, err := Load(writeList(t, c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
	ms, err := Load(writeList(t, "[[mutant]]\n"+ok))
	if err != nil || len(ms) != 1 || ms[0].Pkgs()[0] != "./p" {
		t.Fatalf("good list: %+v %v", ms, err)
	}
}

func TestLocateIsExact(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte("a := b < c\nd := b < c\ne := f\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		orig string
		want string // "" = found
	}{
		{"e := f", ""},
		{"b < c", "occurs 2 times"},
		{"b <= c", "not in"},
		{"e :=  f", "not in"}, // whitespace matters
	} {
		m := Mutant{Name: "m", File: "x.go", Original: c.orig, Mutated: "z"}
		_, err := m.Locate(dir)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.orig, err)
		case c.want != "" && (!errors.Is(err, ErrStale) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: err %v, want ErrStale %q", c.orig, err, c.want)
		}
	}
	m := Mutant{Name: "m", File: "x.go", Original: "e := f", Mutated: "e := g"}
	if err := m.Apply(dir); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "x.go"))
	if string(got) != "a := b < c\nd := b < c\ne := g\n" {
		t.Fatalf("applied: %q", got)
	}
}

func TestParse(t *testing.T) {
	out := strings.Join([]string{
		`{"Action":"start","Package":"ex/a"}`,
		`{"Action":"run","Package":"ex/a","Test":"TestOne"}`,
		`{"Action":"run","Package":"ex/a","Test":"TestOne/sub"}`,
		`{"Action":"output","Package":"ex/a","Test":"TestOne/sub","Output":"    --- FAIL: TestOne/sub (0.00s)\n"}`,
		`{"Action":"fail","Package":"ex/a","Test":"TestOne/sub"}`,
		`{"Action":"fail","Package":"ex/a","Test":"TestOne"}`,
		`{"Action":"fail","Package":"ex/a"}`,
		`{"Action":"run","Package":"ex/b","Test":"TestHang"}`,
		`{"Action":"output","Package":"ex/b","Output":"panic: test timed out after 1s\n"}`,
		`{"Action":"output","Package":"ex/b","Output":"\trunning tests:\n"}`,
		`{"Action":"output","Package":"ex/b","Output":"running tests:\n"}`,
		`{"Action":"output","Package":"ex/b","Output":"\t\tTestHang (1s)\n"}`,
		`{"Action":"output","Package":"ex/b","Output":"\n"}`,
		`{"Action":"output","Package":"ex/b","Output":"goroutine 1 [running]:\n"}`,
		`{"Action":"fail","Package":"ex/b"}`,
		`not json at all`,
	}, "\n")
	o := parse(strings.NewReader(out))
	if !o.timeout || o.tests != 3 {
		t.Fatalf("timeout %v tests %d", o.timeout, o.tests)
	}
	if got := o.killers(true); !slices.Equal(got, []string{"a.TestOne/sub", "b.TestHang"}) {
		t.Fatalf("killers %v", got)
	}
	b := parse(strings.NewReader(`{"Action":"build-fail","ImportPath":"ex/a [ex/a.test]"}` + "\n"))
	if !b.buildFailed || !b.failed() {
		t.Fatalf("build failure not seen: %+v", b)
	}
}

// A tiny module: Max with a test that pins it, and a function no test
// looks at.
const tinyMod = "module ex\n\ngo 1.22\n"

const tinySrc = `package ex

func Max(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func Unchecked(a int) int { return a + 1 }

func Spin(stop bool) {
	for !stop {
	}
}
`

const tinyTest = `package ex

import "testing"

func TestMax(t *testing.T) {
	for _, c := range [][3]int{{1, 2, 2}, {2, 1, 2}, {3, 3, 3}} {
		if got := Max(c[0], c[1]); got != c[2] {
			t.Fatalf("Max(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

func TestSpin(t *testing.T) { Spin(true) }
`

func TestRunJudgesEveryKind(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on a module of its own")
	}
	root := t.TempDir()
	for name, body := range map[string]string{"go.mod": tinyMod, "ex.go": tinySrc, "ex_test.go": tinyTest} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.ReadFile(filepath.Join(root, "ex.go"))
	ms := []Mutant{
		{Name: "max-flipped", Why: "w", File: "ex.go", Original: "if a > b {", Mutated: "if a < b {"},
		{Name: "unchecked", Why: "w", File: "ex.go", Original: "return a + 1", Mutated: "return a + 2"},
		{Name: "gone", Why: "w", File: "ex.go", Original: "return a - 1", Mutated: "return a"},
		{Name: "no-build", Why: "w", File: "ex.go", Original: "return b\n", Mutated: "return b +\n"},
		{Name: "hangs", Why: "w", File: "ex.go", Original: "for !stop {", Mutated: "for stop || !stop {"},
	}
	if err := Check(ms); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	rs, err := Run(context.Background(), ms, Options{Root: root, Parallel: 2, Timeout: 3 * time.Second,
		Baseline: true, Progress: &progress})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	want := map[string]Status{"max-flipped": Killed, "unchecked": Survived, "gone": Stale, "no-build": Broken, "hangs": Killed}
	for _, r := range rs {
		if r.Status != want[r.Name] {
			t.Errorf("%s: %s (%s), want %s", r.Name, r.Status, r.Detail, want[r.Name])
		}
	}
	if rs[0].Name != "max-flipped" || !slices.Equal(rs[0].KilledBy, []string{"TestMax"}) {
		t.Errorf("killed by %v, want TestMax", rs[0].KilledBy)
	}
	if !rs[4].Timeout || !slices.Equal(rs[4].KilledBy, []string{"TestSpin"}) {
		t.Errorf("the hang: %+v, want killed by TestSpin's timeout", rs[4])
	}
	if Passed(rs) {
		t.Error("a run with a survivor passed")
	}
	after, _ := os.ReadFile(filepath.Join(root, "ex.go"))
	if string(after) != string(before) {
		t.Fatal("the run changed the module it copies")
	}
	var tab strings.Builder
	Table(&tab, rs)
	if !strings.Contains(tab.String(), "max-flipped") || !strings.Contains(tab.String(), "mutants: 2 killed, 3 not killed") {
		t.Errorf("table:\n%s", tab.String())
	}
}

func TestRunStopsOnARedBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on a module of its own")
	}
	root := t.TempDir()
	red := strings.Replace(tinyTest, "{3, 3, 3}", "{3, 3, 4}", 1)
	for name, body := range map[string]string{"go.mod": tinyMod, "ex.go": tinySrc, "ex_test.go": red} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ms := []Mutant{{Name: "max-flipped", Why: "w", File: "ex.go", Original: "if a > b {", Mutated: "if a < b {"}}
	_, err := Run(context.Background(), ms, Options{Root: root, Timeout: 30 * time.Second, Baseline: true})
	if err == nil || !strings.Contains(err.Error(), "baseline") || !strings.Contains(err.Error(), "TestMax") {
		t.Fatalf("err %v, want the red baseline named", err)
	}
}

// TestBaselineSets: the baseline runs what the mutants will run — a
// package in full when one of its mutants runs it in full (or names a
// subtest pattern), else only its mutants' patterns.
func TestBaselineSets(t *testing.T) {
	ms := []Mutant{
		{Name: "a", File: "limits/gate.go"},
		{Name: "b", File: "supervisor/kill.go", Run: "^TestKillWhile"},
		{Name: "c", File: "supervisor/intent.go", Run: "^(TestA|TestB)$"},
		{Name: "d", File: "supervisor/intent.go", Run: "^TestKillWhile"},
		{Name: "e", File: "hw/button.go", Packages: []string{"./hw", "./drill"}},
		{Name: "f", File: "journal/read.go", Run: "^TestX$/sub"},
		{Name: "g", File: "broker/sim/orders.go", Run: "^TestY$"},
	}
	got := baselineSets(ms, []int{0, 1, 2, 3, 4, 5})
	want := []BaselineSet{
		{Pkgs: []string{"./limits", "./hw", "./drill", "./journal"}},
		{Pkgs: []string{"./supervisor"}, Run: "^TestKillWhile|^(TestA|TestB)$"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("baseline sets %v, want %v", got, want)
	}
}

// TestMarkdown: RELIABILITY.md's table from the results — the killing
// tests in code spans, a pipe in the rule escaped, a mutant not killed
// shown with its status and why.
func TestMarkdown(t *testing.T) {
	rs := []Result{
		{Name: "max-flipped", Why: "max: |a| ≥ |b| picks a", File: "ex.go", Status: Killed, KilledBy: []string{"TestMax", "TestMax/neg"}},
		{Name: "hangs", Why: "w", File: "ex.go", Status: Killed, KilledBy: []string{"TestSpin"}, Timeout: true},
		{Name: "unchecked", Why: "w", File: "ex.go", Status: Survived, Detail: "no test failed"},
	}
	var b strings.Builder
	Markdown(&b, rs)
	want := "| mutant | the bug (the rule it breaks) | file | killed by |\n" +
		"|---|---|---|---|\n" +
		"| `max-flipped` | max: \\|a\\| ≥ \\|b\\| picks a | `ex.go` | `TestMax`, `TestMax/neg` |\n" +
		"| `hangs` | w | `ex.go` | `TestSpin` (timeout) |\n" +
		"| `unchecked` | w | `ex.go` | **SURVIVED**: no test failed |\n"
	if b.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", b.String(), want)
	}
}
