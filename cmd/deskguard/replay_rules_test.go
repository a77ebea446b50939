package main

// replay_rules_test.go: `deskguard replay --json` passes [risk] through to
// the desk (the news calendar reaches every gate) and counts the session's
// rejections by reason.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplayJSONCountsRejectionsByReason(t *testing.T) {
	dir := t.TempDir()
	var ex bytes.Buffer
	if code := dispatch(context.Background(), []string{"config", "example"}, strings.NewReader(""), &ex, &ex); code != 0 {
		t.Fatalf("config example: exit %d: %s", code, ex.String())
	}
	cal := filepath.Join(dir, "news.csv")
	// One release at noon on the synthetic session's day, its blackout
	// (3 h before, 4 h after) covering the whole of regular hours.
	if err := os.WriteFile(cal, []byte("date,time,name\n2024-03-12,12:00,all-day test release\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := ex.String()
	for old, repl := range map[string]string{
		`blackout_before = "5m"`: `blackout_before = "3h"`,
		`blackout_after = "5m"`:  `blackout_after = "4h"`,
		`calendar = ""`:          `calendar = "` + cal + `"`,
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("the example has no %q", old)
		}
		text = strings.Replace(text, old, repl, 1)
	}
	cfg := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		var out, errb bytes.Buffer
		if code := dispatch(context.Background(), append([]string{"replay", "--json"}, args...), strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("replay %v: exit %d: %s", args, code, errb.String())
		}
		var sum map[string]any
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			t.Fatalf("replay --json: %v: %s", err, out.String())
		}
		return sum
	}
	sum := run("--config", cfg)
	rej, _ := sum["rejections"].(map[string]any)
	if n, _ := rej["news_blackout"].(float64); n == 0 {
		t.Fatalf("no news_blackout rejections over a blacked-out session: %v", sum["rejections"])
	}
	if len(rej) != 1 {
		t.Errorf("rejections %v: only news_blackout expected when every entry falls in the blackout", rej)
	}
	for _, a := range sum["accounts"].([]any) {
		if o := a.(map[string]any)["orders"].(float64); o != 0 {
			t.Errorf("account %v sent %v orders inside the blackout", a.(map[string]any)["id"], o)
		}
	}
	if _, ok := run()["rejections"].(map[string]any); !ok {
		t.Errorf("the built-in desk's summary has no rejections map")
	}
}
