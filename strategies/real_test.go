// real_test.go: every engine over every real day in ../shared/data/es-minute
// (one-minute bars expanded to trades by market.Open, sides by the tick
// rule): no panics, well-formed intents, determinism; and golden files of
// one day's signals per engine (go test ./strategies -run Golden -update).

package strategies

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/internal/shareddata"
	"github.com/deskguard/deskguard/market"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func readDay(t testing.TB, path string) ([]market.Trade, market.FeedInfo) {
	t.Helper()
	f, err := market.Open(path, market.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var out []market.Trade
	for {
		tr, err := f.Next()
		if errors.Is(err, io.EOF) {
			return out, f.Info()
		}
		if err != nil {
			t.Fatalf("%s: trade %d: %v", path, len(out)+1, err)
		}
		out = append(out, tr)
	}
}

func realDays(t testing.TB) []string {
	dir := shareddata.File(t, "es-minute")
	files, err := filepath.Glob(filepath.Join(dir, "*_trade.zip"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no es-minute trade files in %s: %v", dir, err)
	}
	return files
}

func TestRealDays(t *testing.T) {
	counts := map[string]int{}
	for _, path := range realDays(t) {
		trades, info := readDay(t, path)
		if !info.Derived {
			t.Errorf("%s: Lean minute bars should be marked derived", filepath.Base(path))
		}
		var per []int
		for _, name := range Names {
			es, err := DefaultConfig().Engines(name)
			if err != nil {
				t.Fatal(err)
			}
			out := runOne(t, es[0], trades)
			es2, _ := DefaultConfig().Engines(name)
			if again := run(NewRunner("acct", es2...), trades); !reflect.DeepEqual(out, again) {
				t.Fatalf("%s %s: not deterministic", filepath.Base(path), name)
			}
			for _, in := range out {
				if !strings.HasPrefix(in.Reason, name+".") || in.Strategy != name {
					t.Fatalf("%s: %v", name, &in)
				}
				if m := market.MinuteET(time.Unix(0, in.Time)); m < 9*60+30 || m >= 15*60+45 {
					t.Fatalf("%s: entry outside 09:30–15:45: %v", name, &in)
				}
			}
			counts[name] += len(out)
			per = append(per, len(out))
		}
		t.Logf("%s: %d trades, orb %d vwapmr %d delta %d", filepath.Base(path), len(trades), per[0], per[1], per[2])
	}
	for _, n := range Names {
		if counts[n] == 0 {
			t.Errorf("%s never fired on the real days", n)
		}
	}
}

// goldenDays: one real day per engine, where it fires.
var goldenDays = map[string]string{"orb": "20131203", "vwapmr": "20131008", "delta": "20131010"}

func TestGolden(t *testing.T) {
	dir := shareddata.File(t, "es-minute")
	for _, name := range Names {
		day := goldenDays[name]
		trades, _ := readDay(t, filepath.Join(dir, day+"_trade.zip"))
		es, _ := DefaultConfig().Engines(name)
		got := formatIntents(runOne(t, es[0], trades))
		file := filepath.Join("testdata", name+"-"+day+".golden")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s on %s differs from %s:\n--- got\n%s--- want\n%s", name, day, file, got, want)
		}
		if strings.Count(got, "\n") < 2 {
			t.Errorf("%s: golden day %s should have at least one signal", name, day)
		}
	}
}

func formatIntents(ins []intent.Intent) string {
	var b strings.Builder
	b.WriteString("# time ET | kind side qty type entry limit stop target | reason\n")
	dash := func(p market.Price) string {
		if p == 0 {
			return "-"
		}
		return p.String()
	}
	for _, in := range ins {
		fmt.Fprintf(&b, "%s | %s %s %d %s %s %s %s %s | %s\n",
			time.Unix(0, in.Time).In(market.NewYork).Format("2006-01-02 15:04:05.000"), in.Kind, in.Side, in.Qty,
			in.EntryType, dash(in.Entry), dash(in.Limit), dash(in.Stop), dash(in.Target), in.Reason)
	}
	return b.String()
}
