package config

// metrics_test.go: the [metrics] table — where /metrics is served, what
// Validate refuses, and the token read from a variable or a file.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const metricsBase = "[[accounts]]\nid = \"A\"\nstart_equity = \"1000\"\nstrategies = [\"orb\"]\n"

func TestMetricsAddr(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", "127.0.0.1:8080"},
		{"[console]\nlisten = \"127.0.0.1:9000\"\n", "127.0.0.1:9000"},
		{"[console]\nlisten = \"off\"\n", ""},
		{"[metrics]\nlisten = \"off\"\n", ""},
		{"[console]\nlisten = \"off\"\n[metrics]\nlisten = \"127.0.0.1:9464\"\n", "127.0.0.1:9464"},
	} {
		c, err := Parse("desk.toml", tc.text+metricsBase)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if got := c.MetricsAddr(); got != tc.want {
			t.Errorf("%q: MetricsAddr %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestMetricsRefused(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[metrics]\nlisten = \"9464\"\n", "metrics.listen"},
		{"[metrics]\ntoken_env = \"X\"\ntoken_file = \"/f\"\n", "not both"},
	} {
		_, err := Parse("desk.toml", tc.text+metricsBase)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error naming %s", tc.text, err, tc.want)
		}
	}
	// A non-loopback address without a token is allowed: only scrapes from
	// this machine are answered then (package metrics).
	if _, err := Parse("desk.toml", "[metrics]\nlisten = \"0.0.0.0:9464\"\n"+metricsBase); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	if err := os.WriteFile(file, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DG_METRICS_TOKEN", " from-the-env ")
	t.Setenv("DG_METRICS_EMPTY", "")
	for _, tc := range []struct{ table, want, err string }{
		{"", "", ""},
		{"token_env = \"DG_METRICS_TOKEN\"", "from-the-env", ""},
		{"token_file = \"" + file + "\"", "from-the-file", ""},
		{"token_env = \"DG_METRICS_EMPTY\"", "", "DG_METRICS_EMPTY is empty"},
		{"token_file = \"" + empty + "\"", "", "is empty"},
		{"token_file = \"" + dir + "\"", "", "not a regular file"},
	} {
		c, err := Parse("desk.toml", "[metrics]\n"+tc.table+"\n"+metricsBase)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.MetricsToken()
		if tc.err == "" && (err != nil || got != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %q, %v; want %q, %q", tc.table, got, err, tc.want, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), "from-the") {
			t.Errorf("%s: the error holds the token: %v", tc.table, err)
		}
	}
}
