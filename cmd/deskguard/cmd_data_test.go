package main

// cmd_data_test.go: `deskguard data summary` golden output on real files,
// its errors, and `data synth` feeding back into `data summary`.

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskguard/deskguard/internal/shareddata"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/deskguard -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n got: %s\nwant: %s", path, got, want)
	}
}

func TestDataSummaryGolden(t *testing.T) {
	dir := shareddata.SharedData(t)
	for _, c := range []struct{ file, golden string }{
		{"es-ticks/futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst", "data_summary_trades.json.golden"},
		{"es-minute/20131008_trade.zip", "data_summary_lean.json.golden"},
	} {
		code, out, errs := runCLI(t, "data", "summary", filepath.Join(dir, c.file), "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.file, code, errs)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		keys := []string{"format", "symbol", "kind", "records", "trades", "bars", "volume", "first", "last", "open", "high",
			"low", "close", "rth_vwap", "cum_delta", "rth_cum_delta", "buy_volume", "sell_volume", "aggressor"}
		if len(m) != len(keys) {
			t.Errorf("%d keys, want %d: %v", len(m), len(keys), m)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("key %q missing", k)
			}
		}
		golden(t, c.golden, out)
	}
}

func TestDataSummaryText(t *testing.T) {
	code, out, errs := runCLI(t, "data", "summary", shareddata.File(t, "es-minute/20131008_trade.zip"))
	if code != 0 || !strings.Contains(out, "DERIVED") || !strings.Contains(out, "tick rule") || !strings.Contains(out, "ESZ3") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "data", "summary", shareddata.File(t, "es-ticks/esh4-glbx-mdp3-20231225.mbo.dbn.zst"))
	if code != 0 || !strings.Contains(out, "aggressor   data\n") || !strings.Contains(out, "1 trade(s) have no side") || !strings.Contains(out, "2973") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestDataSummaryErrors(t *testing.T) {
	dir := shareddata.SharedData(t)
	for _, c := range []struct {
		args []string
		code int
		text string
	}{
		{[]string{"data", "summary", filepath.Join(dir, "dbn-fixtures/test_data.ohlcv-1m.dbn")}, 1, `"ohlcv-1m"`},
		{[]string{"data", "summary", filepath.Join(dir, "dbn-fixtures/test_data.tbbo.dbn"), "--json"}, 1, `"tbbo"`},
		{[]string{"data", "summary", filepath.Join(dir, "nope.csv")}, 2, "no such file"},
		{[]string{"data", "summary"}, 2, "usage"},
		{[]string{"data", "frobnicate"}, 2, "unknown subcommand"},
		{[]string{"data", "synth", "--seed", "1"}, 2, "usage"},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.text) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.text)
		}
	}
}

func TestDataSynthThenSummary(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.csv")
	if code, _, errs := runCLI(t, "data", "synth", "--seed", "1", "--regime", "trend", "--out", out); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, errs)
	}
	code, js, errs := runCLI(t, "data", "summary", out, "--json")
	if code != 0 {
		t.Fatalf("summary: exit %d: %s", code, errs)
	}
	var s struct {
		Format, Kind, Aggressor string
		Trades                  int64
		RTHVWAP                 *float64 `json:"rth_vwap"`
	}
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatal(err)
	}
	if s.Format != "csv-ticks" || s.Kind != "trades" || s.Aggressor != "data" || s.Trades < 1000 || s.RTHVWAP == nil {
		t.Fatalf("%s", js)
	}
	if code, _, errs := runCLI(t, "data", "synth", "--seed", "1", "--regime", "sideways", "--out", out); code != 2 {
		t.Fatalf("bad regime: exit %d: %s", code, errs)
	}
}

// TestDataSummaryClipsEchoedInput: a 10 MB field is not echoed whole
// into the error (issue 25 item 9).
func TestDataSummaryClipsEchoedInput(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.csv")
	body := "time,price,size,side\n2024-03-12T13:30:00Z,5150.25," + strings.Repeat("9x", 5<<20) + ",B\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "data", "summary", p)
	if code != 1 || !strings.Contains(errs, "size") || len(errs) > 1000 {
		t.Fatalf("exit %d, %d bytes of stderr: %.300q", code, len(errs), errs)
	}
}
