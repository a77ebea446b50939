package main

// cmd_signals_test.go: `deskguard signals` on a synthetic day, text and
// JSON, and its usage errors.

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/internal/shareddata"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSignalsSynthJSON(t *testing.T) {
	// Trend day 4: every engine signals on it since the synthetic tape's
	// delta follows its price (day 9's ORB breakout no longer does).
	code, out, errs := runCLI(t, "signals", "--synth", "4", "--regime", "trend", "--strategy", "all", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Intents []struct {
			Time, Strategy, Kind, Side, Reason string
			Qty                                int64
			Entry, Limit, Stop, Target         *float64
		} `json:"intents"`
		Derived *bool `json:"derived"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Derived == nil || *doc.Derived || len(doc.Intents) == 0 {
		t.Fatalf("derived %v, %d intents", doc.Derived, len(doc.Intents))
	}
	seen := map[string]bool{}
	for _, in := range doc.Intents {
		seen[in.Strategy] = true
		if _, err := time.Parse(time.RFC3339, in.Time); err != nil || !strings.HasSuffix(in.Time, "Z") {
			t.Fatalf("time %q: %v", in.Time, err)
		}
		if in.Kind != "enter" || in.Qty <= 0 || in.Entry == nil || in.Stop == nil || in.Target == nil ||
			!strings.HasPrefix(in.Reason, in.Strategy+".") {
			t.Fatalf("intent %+v", in)
		}
		long := in.Side == "buy"
		if long != (*in.Stop < *in.Entry) || long != (*in.Target > *in.Entry) {
			t.Fatalf("bracket on the wrong side: %+v", in)
		}
		if (in.Strategy == "orb") != (in.Limit != nil) {
			t.Fatalf("limit only on ORB's stop-limits: %+v", in)
		}
	}
	for _, s := range []string{"orb", "vwapmr", "delta"} {
		if !seen[s] {
			t.Errorf("%s: no intent on synthetic trend day 4", s)
		}
	}
}

func TestSignalsText(t *testing.T) {
	code, out, errs := runCLI(t, "signals", "--synth", "1", "--regime", "range", "--strategy", "vwapmr")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"synthetic range day, seed 1", "engines see no fills", "TIME (EDT, America/New_York)", "vwapmr.short:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSignalsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"signals", "--strategy", "orb"},
		{"signals", "--synth", "1", "--data", "x", "--strategy", "orb"},
		{"signals", "--synth", "1", "--strategy", "nope"},
		{"signals", "--synth", "1", "--regime", "sideways", "--strategy", "orb"},
	} {
		if code, _, errs := runCLI(t, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

func TestSignalsRealFile(t *testing.T) {
	path := shareddata.File(t, "es-minute/20131203_trade.zip")
	for _, s := range []string{"orb", "vwapmr", "delta"} {
		code, out, errs := runCLI(t, "signals", "--data", path, "--strategy", s, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", s, code, errs)
		}
		var doc struct {
			Intents []struct{ Strategy, Kind string } `json:"intents"`
			Derived bool                              `json:"derived"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if !doc.Derived || len(doc.Intents) == 0 {
			t.Fatalf("%s: derived %v, %d intents", s, doc.Derived, len(doc.Intents))
		}
		for _, in := range doc.Intents {
			if in.Strategy != s || in.Kind != "enter" {
				t.Fatalf("%s: %+v", s, in)
			}
		}
	}
	code, out, _ := runCLI(t, "signals", "--data", path, "--strategy", "orb")
	if code != 0 || !strings.Contains(out, "trades expanded from bars, aggressor sides by the tick rule") ||
		!strings.Contains(out, "orb.short: 5m close 1792.50 < ORL 1793.00") {
		t.Fatalf("text output:\n%s", out)
	}
	if code, _, errs := runCLI(t, "signals", "--data", path+".missing", "--strategy", "orb"); code != 2 || errs == "" {
		t.Fatalf("missing file: exit %d %q", code, errs)
	}
}
