package main

// run_start_test.go: what `deskguard run` refuses at start, before it
// trades or writes anything (issue 25 items 5, 7a and 8), and the manager
// token file it writes once it is up.
//   - the console's address is taken: refused (exit 1), unless the console
//     is off; no journal is created, no token file written;
//   - ./deskguard.token exists with group/other permissions, or is a
//     symbolic link: refused (exit 2), the file (and a link's target)
//     unchanged;
//   - the journal path is another application's bbolt file, an empty file
//     or a symbolic link: refused, the file unchanged (a link's target not
//     created);
//   - a desk that is up writes the token 0600, a second desk in the same
//     directory that is refused at start leaves it alone, and the token is
//     removed when the desk stops.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// startConfig writes a desk config (sim broker, in-process engines, real
// pace so the session outlasts the test) with the given console address
// and journal, and no tokens (so the desk makes demo tokens).
func startConfig(t *testing.T, dir, listen, journal string) string {
	t.Helper()
	cfg := fmt.Sprintf(`[desk]
journal = %q
control_socket = %q
workers = "in-process"
log_level = "warn"

[data]
pace = 1.0

[broker]
kind = "sim"

[console]
listen = %q

[[accounts]]
id = "S1"
start_equity = "50000.00"
strategies = ["orb"]
`, journal, filepath.Join(dir, "desk.sock"), listen)
	p := filepath.Join(dir, "desk.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runIn runs `deskguard run ARGS` in this process with dir as the working
// directory; a run that is not refused is stopped after limit (and its
// exit code, 0, fails the caller's check).
func runIn(t *testing.T, dir string, limit time.Duration, args ...string) (int, string) {
	t.Helper()
	t.Chdir(dir)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var out, errb bytes.Buffer
	code := dispatch(ctx, append([]string{"run", "--status-every", "1h"}, args...), nil, &out, &errb)
	return code, errb.String()
}

func fileBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunRefusesATakenConsoleAddress(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	db := filepath.Join(dir, "desk.db")
	code, stderr := runIn(t, dir, refuseGuard, "--config", startConfig(t, dir, addr, db))
	if code == 0 || !strings.Contains(stderr, addr) {
		t.Fatalf("run with its console address taken: exit %d, stderr %q (want refused, naming %s)", code, stderr, addr)
	}
	for _, p := range []string{db, filepath.Join(dir, defaultTokenFile), filepath.Join(dir, "desk.sock")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("a run refused at start left %s", p)
		}
	}
}

func TestRunRefusesAnUnsafeTokenFile(t *testing.T) {
	dir := t.TempDir()
	cfg := startConfig(t, dir, "off", filepath.Join(dir, "desk.db"))
	tok := filepath.Join(dir, defaultTokenFile)

	// A readable file: another local user would read the live manager token.
	if err := os.WriteFile(tok, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tok, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	code, stderr := runIn(t, dir, refuseGuard, "--config", cfg)
	if code == 0 || !strings.Contains(stderr, defaultTokenFile) {
		t.Fatalf("a 0644 token file: exit %d, stderr %q", code, stderr)
	}
	if fi, _ := os.Stat(tok); fi.Mode().Perm() != 0o644 || string(fileBytes(t, tok)) != "old\n" {
		t.Fatalf("the refused run changed the 0644 token file: mode %v", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "desk.db")); err == nil {
		t.Fatal("a run refused for its token file created its journal")
	}

	// A symbolic link: never followed, its target never written.
	os.Remove(tok)
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, tok); err != nil {
		t.Fatal(err)
	}
	code, stderr = runIn(t, dir, refuseGuard, "--config", cfg)
	if code == 0 || !strings.Contains(stderr, "symbolic link") {
		t.Fatalf("a token file that is a link: exit %d, stderr %q", code, stderr)
	}
	if string(fileBytes(t, target)) != "precious\n" {
		t.Fatal("the link's target was overwritten")
	}
	if fi, err := os.Lstat(tok); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi, err)
	}
}

func TestRunRefusesWhatIsNotItsJournal(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "other-app.db")
	db, err := bolt.Open(foreign, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("sessions"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.db")
	linkTarget := filepath.Join(dir, "target.db")
	if err := os.Symlink(linkTarget, link); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{foreign: fileBytes(t, foreign), empty: fileBytes(t, empty)}
	cfg := startConfig(t, dir, "off", filepath.Join(dir, "unused.db"))
	for _, p := range []string{foreign, empty, link} {
		code, stderr := runIn(t, dir, refuseGuard, "--config", cfg, "--journal", p)
		if code == 0 || !strings.Contains(stderr, p) {
			t.Errorf("run --journal %s: exit %d, stderr %q (want refused, naming the path)", p, code, stderr)
		}
	}
	for p, b := range before {
		if !bytes.Equal(fileBytes(t, p), b) {
			t.Errorf("%s was changed by the refused run", p)
		}
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Errorf("the empty file became a journal (%d bytes)", fi.Size())
	}
	if _, err := os.Lstat(linkTarget); err == nil {
		t.Error("the link's target was created")
	}
	if _, err := os.Lstat(filepath.Join(dir, defaultTokenFile)); err == nil {
		t.Error("a refused run wrote the token file")
	}
}

func TestRunWritesItsTokenFileOnceUp(t *testing.T) {
	dir := t.TempDir()
	cfg := startConfig(t, dir, "127.0.0.1:0", filepath.Join(dir, "desk.db"))
	run := startRunProc(t, dir, "--config", cfg, "--status-every", "1h")
	stdout, stderr := run.stdout, run.stderr
	if !stdout.waitFor("for the CLI", startGuard) {
		t.Fatalf("the desk did not say it wrote its token file:\n%s\n%s", stdout, stderr)
	}
	var mgr, consoleAddr string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "manager" {
			mgr = f[1]
		}
		if u, ok := strings.CutPrefix(l, "console: http://"); ok {
			consoleAddr = strings.TrimSpace(u)
		}
	}
	tok := filepath.Join(dir, defaultTokenFile)
	fi, err := os.Lstat(tok)
	if err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
		t.Fatalf("token file %v %v, want a regular file with mode 0600", fi, err)
	}
	if got := strings.TrimSpace(string(fileBytes(t, tok))); got != mgr || mgr == "" {
		t.Fatalf("token file holds %q, the printed manager token is %q", got, mgr)
	}
	// A second desk in the same directory, refused at start (its console
	// address is the first desk's), leaves the first desk's token alone.
	dir2 := filepath.Join(dir, "second")
	if err := os.Mkdir(dir2, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg2 := startConfig(t, dir2, consoleAddr, filepath.Join(dir2, "desk.db"))
	second := selfCmd(t, dir, "run", "--config", cfg2)
	var out2 bytes.Buffer
	second.Stdout, second.Stderr = &out2, &out2
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	done2 := make(chan error, 1)
	go func() { done2 <- second.Wait() }()
	select {
	case err := <-done2:
		if err == nil {
			t.Fatalf("a second desk on the first's console address ran:\n%s", out2.String())
		}
	case <-time.After(refuseGuard):
		_ = second.Process.Kill()
		<-done2
		t.Fatalf("a second desk on the first's console address did not refuse to start:\n%s", out2.String())
	}
	if got := strings.TrimSpace(string(fileBytes(t, tok))); got != mgr {
		t.Fatalf("the refused second desk replaced the running desk's token file")
	}
	if ended, err := run.stop(); !ended {
		t.Fatalf("run did not stop on SIGTERM within %s:\n%s", stopGuard, stderr)
	} else if err != nil {
		t.Fatalf("run exited with %v:\n%s", err, stderr)
	}
	if _, err := os.Lstat(tok); err == nil {
		t.Fatal("the token file outlived its desk")
	}
}

func TestTokenFileChecks(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tok")
	uid := os.Geteuid()
	if err := checkTokenPath(p, uid); err != nil {
		t.Fatalf("missing path: %v", err)
	}
	if err := writeTokenFile(p, "t1"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 || string(fileBytes(t, p)) != "t1\n" {
		t.Fatalf("written %v %q", fi.Mode(), fileBytes(t, p))
	}
	if err := writeTokenFile(p, "t2"); err != nil || string(fileBytes(t, p)) != "t2\n" {
		t.Fatalf("replacing our own 0600 file: %v %q", err, fileBytes(t, p))
	}
	if err := checkTokenPath(p, uid+1); err == nil || !strings.Contains(err.Error(), "uid") {
		t.Fatalf("a file of another uid: %v", err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o666} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := writeTokenFile(p, "t3"); err == nil || string(fileBytes(t, p)) != "t2\n" {
			t.Errorf("mode %04o: %v, content %q", mode, err, fileBytes(t, p))
		}
	}
	os.Chmod(p, 0o400)
	if err := checkTokenPath(p, uid); err != nil {
		t.Errorf("mode 0400: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := checkTokenPath(filepath.Join(dir, "d"), uid); err == nil {
		t.Error("a directory was accepted")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, ".tok.*"))
	if len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
	// removeTokenFile removes only a file that still holds its token.
	os.Chmod(p, 0o600)
	removeTokenFile(p, "someone else's")
	if _, err := os.Stat(p); err != nil {
		t.Fatal("removed a token file holding another desk's token")
	}
	removeTokenFile(p, "t2")
	if _, err := os.Stat(p); err == nil {
		t.Fatal("our token file was not removed")
	}
}

func TestCheckJournalPath(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "j.db")
	if err := os.WriteFile(real, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := checkJournalPath(real, false); err != nil {
		t.Errorf("a file: %v", err)
	}
	if err := checkJournalPath(filepath.Join(dir, "new.db"), false); err != nil {
		t.Errorf("a new path: %v", err)
	}
	if err := checkJournalPath(link, false); err == nil || !strings.Contains(err.Error(), "journal_follow_symlink") {
		t.Errorf("a link: %v", err)
	}
	if err := checkJournalPath(link, true); err != nil {
		t.Errorf("a link, configured to follow: %v", err)
	}
}

// TestRunAnswersProbes: a running desk answers /healthz and /readyz on its
// console without a token, with nothing in the body but ok / not ready.
func TestRunAnswersProbes(t *testing.T) {
	dir := t.TempDir()
	cfg := startConfig(t, dir, "127.0.0.1:0", filepath.Join(dir, "desk.db"))
	run := startRunProc(t, dir, "--config", cfg, "--status-every", "1h")
	stdout, stderr := run.stdout, run.stderr
	if !stdout.waitFor("console: http://", startGuard) {
		t.Fatalf("no console:\n%s\n%s", stdout, stderr)
	}
	var base string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if u, ok := strings.CutPrefix(l, "console: "); ok {
			base = strings.TrimSpace(u)
		}
	}
	get := func(path string) (int, string) {
		r, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	deadline := time.Now().Add(startGuard)
	for {
		code, body := get("/readyz")
		if code == 200 && body == "ok\n" {
			break
		}
		if code != http.StatusServiceUnavailable || body != "not ready\n" {
			t.Fatalf("readyz: %d %q", code, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the desk never became ready:\n%s", stderr)
		}
		select {
		case <-run.exited:
			t.Fatalf("run exited: %v\n%s", run.err, stderr)
		case <-time.After(50 * time.Millisecond): // an outside observer's polling interval
		}
	}
}
