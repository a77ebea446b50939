package main

// cmd_bench_test.go: `deskguard bench` flags and output. The whole suite in
// short mode is tested in package bench (whose test binary can serve as
// the worker child); here figures that need no child process.

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchCLI(t *testing.T) {
	code, out, errs := runCLI(t, "bench", "--short", "--json", "--dir", t.TempDir(), "--only", "gate_check,kill_liquidate_sent_20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(doc) != 2 {
		t.Fatalf("figures %v", doc)
	}
	for name, f := range doc {
		for _, k := range []string{"p50", "p99", "floor_p50", "floor_p99", "ratio"} {
			if v, ok := f[k].(float64); !ok || v <= 0 {
				t.Errorf("%s.%s = %v, want > 0", name, k, f[k])
			}
		}
	}
	code, out, errs = runCLI(t, "bench", "--short", "--only", "gate_check")
	if code != 0 || !strings.Contains(out, "gate_check") || !strings.Contains(out, "FLOOR P50") {
		t.Fatalf("table: exit %d: %s%s", code, out, errs)
	}
	for _, bad := range [][]string{{"--only", "nope"}, {"--dir", "/does/not/exist"}, {"--bogus"}} {
		if code, _, _ := runCLI(t, append([]string{"bench"}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
