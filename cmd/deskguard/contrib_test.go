package main

// contrib_test.go: contrib/deskguard.service, contrib/desk.toml and
// contrib/deskguard.env agree with each other and with the binary:
//   - the unit's ExecStart names a real subcommand and only flags it has;
//   - the config's journal is in the unit's StateDirectory, its control
//     socket in its RuntimeDirectory, and every credential file it names
//     is one the unit loads (LoadCredential=);
//   - every variable the config names is in the environment file;
//   - the config passes the check `run` makes (with the credentials and
//     variables filled in and the system paths moved to a temporary
//     directory);
//   - where systemd-analyze exists, `systemd-analyze verify` passes the
//     unit (with ExecStart pointed at this binary) without a warning.

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	contribUnit = "../../contrib/deskguard.service"
	contribDesk = "../../contrib/desk.toml"
	contribEnv  = "../../contrib/deskguard.env"
	credDir     = "/run/credentials/deskguard.service/"
)

// unitKeys reads a unit file: key → every value (keys may repeat).
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: not a key=value line: %q", path, l)
		}
		out[k] = append(out[k], v)
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	u := unitKeys(t, contribUnit)
	if len(u["ExecStart"]) != 1 {
		t.Fatalf("ExecStart %q", u["ExecStart"])
	}
	argv := strings.Fields(u["ExecStart"][0])
	if argv[0] != "/usr/local/bin/deskguard" || len(argv) < 2 {
		t.Fatalf("ExecStart %q", argv)
	}
	if _, ok := commands()[argv[1]]; !ok {
		t.Fatalf("ExecStart names the subcommand %q, which deskguard does not have", argv[1])
	}
	var help, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{argv[1], "--help"}, nil, &help, &errb); code != 0 {
		t.Fatalf("%s --help: %d %s", argv[1], code, errb.String())
	}
	for _, a := range argv[2:] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(name) + `\b`).MatchString(help.String()) {
				t.Errorf("ExecStart passes --%s, which `deskguard %s` does not take", name, argv[1])
			}
		}
	}
	for _, k := range []string{"Restart", "StateDirectory", "RuntimeDirectory", "WorkingDirectory", "User"} {
		if len(u[k]) == 0 {
			t.Errorf("the unit sets no %s", k)
		}
	}
	if u["Restart"][0] != "on-failure" || !strings.Contains(strings.Join(u["RestartPreventExitStatus"], " "), "2") {
		t.Errorf("restart policy %q / %q: want on-failure, and not after exit 2 (bad config)", u["Restart"], u["RestartPreventExitStatus"])
	}

	// The config the unit runs agrees with it.
	c, err := os.ReadFile(contribDesk)
	if err != nil {
		t.Fatal(err)
	}
	desk := string(c)
	state, run := "/var/lib/"+u["StateDirectory"][0]+"/", "/run/"+u["RuntimeDirectory"][0]+"/"
	if u["WorkingDirectory"][0]+"/" != state {
		t.Errorf("WorkingDirectory %s is not the state directory %s (deskguard.token is written there)", u["WorkingDirectory"][0], state)
	}
	if !strings.Contains(desk, `journal = "`+state) {
		t.Errorf("desk.toml's journal is not in the state directory %s", state)
	}
	if !strings.Contains(desk, `control_socket = "`+run) {
		t.Errorf("desk.toml's control socket is not in the runtime directory %s", run)
	}
	loaded := map[string]bool{}
	for _, v := range u["LoadCredential"] {
		name, _, _ := strings.Cut(v, ":")
		loaded[name] = true
	}
	for _, m := range regexp.MustCompile(regexp.QuoteMeta(credDir)+`([A-Za-z0-9_.-]+)`).FindAllStringSubmatch(desk, -1) {
		if !loaded[m[1]] {
			t.Errorf("desk.toml reads the credential %s, which the unit does not load", m[1])
		}
	}
	if len(loaded) == 0 {
		t.Error("the unit loads no credential")
	}

	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze is not on this machine: the unit was checked by parsing only")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(contribUnit)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "deskguard.service")
	if err := os.WriteFile(p, bytes.Replace(b, []byte("ExecStart=/usr/local/bin/deskguard"), []byte("ExecStart="+exe), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", p).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestContribConfigPassesTheCheck(t *testing.T) {
	b, err := os.ReadFile(contribDesk)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials") + "/"
	if err := os.Mkdir(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	desk := string(b)
	for _, m := range regexp.MustCompile(regexp.QuoteMeta(credDir)+`([A-Za-z0-9_.-]+)`).FindAllStringSubmatch(desk, -1) {
		if err := os.WriteFile(creds+m[1], []byte("secret-"+m[1]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	desk = strings.ReplaceAll(desk, credDir, creds)
	desk = strings.ReplaceAll(desk, "/var/lib/deskguard/", dir+"/")
	desk = strings.ReplaceAll(desk, "/run/deskguard/", dir+"/")
	// Every variable the config names is in the environment file.
	env, err := os.ReadFile(contribEnv)
	if err != nil {
		t.Fatal(err)
	}
	inEnv := map[string]bool{}
	for _, l := range strings.Split(string(env), "\n") {
		if k, _, ok := strings.Cut(strings.TrimSpace(l), "="); ok && !strings.HasPrefix(k, "#") {
			inEnv[k] = true
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^\w+_env = "(\w+)"`).FindAllStringSubmatch(desk, -1) {
		if !inEnv[m[1]] {
			t.Errorf("desk.toml reads $%s, which deskguard.env does not list", m[1])
		}
	}
	for k := range inEnv {
		v := "value-of-" + k
		if strings.Contains(k, "SLACK_BOT") {
			v = "xoxb-" + v
		}
		t.Setenv(k, v)
	}
	p := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(p, []byte(desk), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadChecked(p, nil, false); err != nil {
		t.Fatalf("contrib/desk.toml does not pass the check run makes:\n%v", err)
	}
}
