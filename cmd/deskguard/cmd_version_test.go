package main

// cmd_version_test.go: the version's three facts, from a build information
// of each kind, and from this (test) binary.

import (
	"bytes"
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestWriteVersion(t *testing.T) {
	cases := []struct {
		bi   debug.BuildInfo
		want []string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/deskguard/deskguard", Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "4af9a0a1b2"}, {Key: "vcs.time", Value: "2026-03-02T14:00:00Z"},
				{Key: "vcs.modified", Value: "true"}}},
			[]string{"deskguard v1.2.3 (module github.com/deskguard/deskguard)", "commit: 4af9a0a1b2 (2026-03-02T14:00:00Z), with uncommitted changes", "go: go1.26.8"}},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/deskguard/deskguard", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			[]string{"deskguard (devel) (module github.com/deskguard/deskguard)", "commit: abc, clean", "go: go1.26.8"}},
		{debug.BuildInfo{GoVersion: "go1.26.8", Path: "github.com/deskguard/deskguard/cmd/deskguard"},
			[]string{"deskguard (devel) (module github.com/deskguard/deskguard/cmd/deskguard)", "commit: unknown", "go: go1.26.8"}},
	}
	for _, c := range cases {
		var b bytes.Buffer
		writeVersion(&b, &c.bi)
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines: %q", len(lines), b.String())
		}
		for i, w := range c.want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("line %d %q, want %q", i, lines[i], w)
			}
		}
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var out, errb bytes.Buffer
		if code := dispatch(context.Background(), args, nil, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		s := out.String()
		if !strings.Contains(s, "deskguard ") || !strings.Contains(s, "commit: ") || !strings.Contains(s, "go: "+runtime.Version()) {
			t.Errorf("%v: %q", args, s)
		}
	}
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"version", "extra"}, nil, &out, &errb); code != 2 {
		t.Errorf("version extra: exit %d", code)
	}
}
