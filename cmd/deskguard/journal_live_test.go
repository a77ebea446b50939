package main

// journal_live_test.go: `journal backup`, `journal tail [-f]` and `report`
// against a journal held open by a writer (as a running desk holds it),
// through a real control socket serving that journal: the backup is a
// consistent copy that verify passes, the tail shows the latest records and
// follows new commits, the report runs on a copy the desk takes; a trader
// is refused; a viewer may tail but not back up.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/console/consoletest"
	"github.com/deskguard/deskguard/control"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

func TestJournalBackupTailAndReportWhileHeld(t *testing.T) {
	dir := t.TempDir()
	path := handJournal(t) // closed; now held by a writer as a live desk holds it
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var toks auth.Tokens
	toks.AddPlain("risk", "mtok-secret", auth.Role{Kind: "manager"})
	toks.AddPlain("wall", "vtok-secret", auth.Role{Kind: "viewer"})
	toks.AddPlain("alice", "ttok-secret", auth.Role{Kind: "trader", Account: "A1"})
	srv := &control.Server{Desk: consoletest.NewFakeDesk(), Tokens: &toks, Journal: journalControl{j}}
	sock := filepath.Join(dir, "ctl.sock")
	if err := srv.Listen(sock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	tokFile := func(name, tok string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mgr, viewer, trader := tokFile("m", "mtok-secret"), tokFile("v", "vtok-secret"), tokFile("t", "ttok-secret")
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := dispatch(ctx, args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	last, err := j.Committed()
	if err != nil || last == 0 {
		t.Fatalf("committed %d %v", last, err)
	}

	// dump refuses the held file; backup through the desk works.
	if code, _, serr := run("journal", "dump", "--db", path, "--timeout", "100ms"); code == 0 {
		t.Fatalf("dump of a held journal: exit 0 (%s)", serr)
	}
	copyPath := filepath.Join(dir, "copy.db")
	code, out, serr := run("journal", "backup", "--to", copyPath, "--socket", sock, "--token-file", mgr)
	if code != 0 || !strings.Contains(out, "consistent copy of "+path) {
		t.Fatalf("backup: exit %d %q %q", code, out, serr)
	}
	if code, out, serr := run("journal", "verify", "--db", copyPath); code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Fatalf("verify of the copy: exit %d %s %s", code, out, serr)
	}
	if code, _, serr := run("journal", "backup", "--to", copyPath, "--socket", sock, "--token-file", mgr); code != 2 || !strings.Contains(serr, "exists") {
		t.Errorf("backup over an existing file: exit %d %q", code, serr)
	}
	if code, _, serr := run("journal", "backup", "--to", filepath.Join(dir, "v.db"), "--socket", sock, "--token-file", viewer); code != 1 || !strings.Contains(serr, "may not") {
		t.Errorf("viewer backup: exit %d %q", code, serr)
	}

	// tail: the last 3 records, in order, ending at the last committed.
	code, out, serr = run("journal", "tail", "-n", "3", "--socket", sock, "--token-file", viewer)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(strings.TrimSpace(lines[2]), itoa(last)+" ") {
		t.Fatalf("tail -n 3: exit %d, %q, %q", code, out, serr)
	}
	if code, _, serr := run("journal", "tail", "--socket", sock, "--token-file", trader); code != 1 || !strings.Contains(serr, "may not") {
		t.Errorf("trader tail: exit %d %q", code, serr)
	}

	// tail -f: the new record arrives once committed.
	pr, pw := io.Pipe()
	fctx, fcancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		var errb bytes.Buffer
		done <- dispatch(fctx, []string{"journal", "tail", "-f", "-n", "1", "--socket", sock, "--token-file", mgr}, strings.NewReader(""), pw, &errb)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	next := func(what string) string {
		t.Helper()
		got := make(chan string, 1)
		go func() {
			if sc.Scan() {
				got <- sc.Text()
			} else {
				got <- ""
			}
		}()
		select {
		case l := <-got:
			return l
		case <-time.After(30 * time.Second):
			t.Fatalf("tail -f: no line for %s", what)
			return ""
		}
	}
	if l := next("the last record"); !strings.HasPrefix(strings.TrimSpace(l), itoa(last)+" ") {
		t.Fatalf("tail -f first line %q, want seq %d", l, last)
	}
	seq, err := j.Append(ctx, journal.NewCommand("", market.WallClock{}.Now().UnixNano(), journal.Command{Who: "test", Command: "tail me"}))
	if err != nil {
		t.Fatal(err)
	}
	if l := next("the new record"); !strings.HasPrefix(strings.TrimSpace(l), itoa(seq)+" ") || !strings.Contains(l, "tail me") {
		t.Fatalf("tail -f line %q, want seq %d", l, seq)
	}
	fcancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if c := <-done; c != 0 {
		t.Errorf("tail -f ended with %d", c)
	}

	// report on the held journal: the running desk takes a copy.
	code, out, serr = run("report", "--db", path, "--json", "--socket", sock, "--token-file", mgr)
	if code != 0 || !strings.Contains(serr, "held by the running desk") || !strings.Contains(out, `"net": "23.50"`) {
		t.Fatalf("report on a running desk: exit %d, out %q, err %q", code, out, serr)
	}
	// … but not on another journal than the one the desk holds.
	other := handJournal(t)
	o, err := journal.Open(other, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if code, _, serr := run("report", "--db", other, "--socket", sock, "--token-file", mgr); code != 2 || !strings.Contains(serr, "not "+other) {
		t.Errorf("report on a journal another desk holds: exit %d %q", code, serr)
	}
}

func itoa(u uint64) string { return strconv.FormatUint(u, 10) }
