package main

// cmd_journal.go: `deskguard journal dump|verify --db FILE`, and
// `journal backup --to F` and `journal tail [-f]`, which work while the
// desk runs. dump and verify open the journal read-only; bbolt's shared
// lock conflicts with a live desk's exclusive one, so against a running
// desk they fail with a clear "locked by pid N" error once the lock timeout
// (--timeout, 1s) runs out, instead of waiting forever (see
// docs/journal.md). backup and tail ask the running desk over its control
// socket (it reads its own journal: a bbolt read transaction's copy for a
// backup, reads after a sequence for a tail); backup --db copies a journal
// no desk holds.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/control"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
)

func cmdJournal(e *env) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: deskguard journal dump --db FILE [--json] [--account ID] [--since SEQ]")
		fmt.Fprintln(w, "       deskguard journal verify --db FILE")
		fmt.Fprintln(w, "       deskguard journal backup --to NEWFILE [--socket S] [--token-file F] | --db FILE --to NEWFILE")
		fmt.Fprintln(w, "       deskguard journal tail [-n N] [-f] [--json] [--account ID] [--socket S] [--token-file F]")
	}
	if len(e.args) == 0 {
		usage(e.stderr)
		return 2
	}
	switch e.args[0] {
	case "dump":
		return journalDump(e, e.args[1:])
	case "verify":
		return journalVerify(e, e.args[1:])
	case "backup":
		return journalBackup(e, e.args[1:])
	case "tail":
		return journalTail(e, e.args[1:])
	case "-h", "--help", "help":
		usage(e.stdout)
		return 0
	}
	fmt.Fprintf(e.stderr, "deskguard journal: unknown subcommand %q\n", e.args[0])
	usage(e.stderr)
	return 2
}

func journalDump(e *env, args []string) int {
	fs := flag.NewFlagSet("journal dump", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db := fs.String("db", "", "journal file")
	asJSON := fs.Bool("json", false, "one JSON object per record (the Record fields)")
	account := fs.String("account", "", "only records of this account")
	since := fs.Uint64("since", 1, "first sequence number")
	timeout := fs.Duration("timeout", time.Second, "how long to wait for the file lock")
	if !parseArgs(e, fs, args) {
		return 2
	}
	if *db == "" || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "deskguard journal dump: --db FILE is required (and takes no arguments)")
		return 2
	}
	j, err := journal.Open(*db, journal.Options{ReadOnly: true, QuickOpen: true, Timeout: *timeout})
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard journal dump: %v\n", err)
		if errors.Is(err, journal.ErrCorrupt) || errors.Is(err, journal.ErrNewerSchema) {
			return 1
		}
		return 2
	}
	defer j.Close()
	enc := json.NewEncoder(e.stdout)
	err = j.Iterate(*since, func(r journal.Record) error {
		if *account != "" && r.Account != *account {
			return nil
		}
		if *asJSON {
			return enc.Encode(r)
		}
		_, err := fmt.Fprintln(e.stdout, dumpLine(r))
		return err
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard journal dump: %v\n", err)
		return 1
	}
	return 0
}

// dumpLine is one record as text: seq, wall time, kind, account, client
// id, then a summary of the payload.
func dumpLine(r journal.Record) string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return fmt.Sprintf("%6d %s %-13s %-8s %-20s %s", r.Seq, time.Unix(0, r.Wall).UTC().Format("2006-01-02T15:04:05.000000Z"),
		r.Kind, dash(r.Account), dash(r.ClientID), summarize(r))
}

func summarize(r journal.Record) string {
	switch r.Kind {
	case journal.KindIntent:
		if b, err := r.IntentBody(); err == nil {
			s := b.Intent.String()
			if d := b.Decision; d != nil {
				if d.Allowed {
					s += " → allowed"
				} else {
					s += fmt.Sprintf(" → refused %s %s", d.Reason, d.Detail)
				}
			}
			return s
		}
	case journal.KindBrokerEvent:
		if ev, err := r.BrokerEvent(); err == nil {
			s := fmt.Sprintf("%s %s %s", ev.Kind, ev.Role, ev.Side)
			if ev.Kind == broker.FilledEv || ev.Kind == broker.PartiallyFilled {
				s += fmt.Sprintf(" x%d @ %s leaves %d", ev.FillQty, ev.FillPrice, ev.LeavesQty)
			}
			if ev.Reason != "" {
				s += " (" + ev.Reason + ")"
			}
			return s
		}
	case journal.KindSnapshot:
		return fmt.Sprintf("%d bytes of state", len(r.Body))
	case journal.KindConfigChange:
		if cc, err := r.ConfigChange(); err == nil {
			return summarizeConfig(cc)
		}
	}
	return strings.TrimSpace(string(r.Body))
}

func journalVerify(e *env, args []string) int {
	fs := flag.NewFlagSet("journal verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	db := fs.String("db", "", "journal file")
	timeout := fs.Duration("timeout", time.Second, "how long to wait for the file lock")
	if !parseArgs(e, fs, args) {
		return 2
	}
	if *db == "" || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "deskguard journal verify: --db FILE is required (and takes no arguments)")
		return 2
	}
	rep, err := journal.Verify(*db, journal.VerifyOptions{Timeout: *timeout, FillOwner: deskOrder, Checkers: []journal.Checker{ledgercheck.New()}})
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard journal verify: %v\n", err)
		return 2
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Fprintln(e.stdout, string(b))
	if !rep.OK {
		return 1
	}
	return 0
}

// deskOrder accepts the fills of orders the desk sends without an intent of
// their own: the venue's liquidation orders ("liquidate.ACCOUNT.N", see
// broker/sim) and the supervisor's stop-coverage repairs ("ACCOUNT.repair.N").
// Both are journaled through their kill or stop_repair record.
func deskOrder(ev broker.Event) bool {
	return strings.HasPrefix(ev.ClientID, "liquidate.") || strings.Contains(ev.ClientID, ".repair.")
}

func journalBackup(e *env, args []string) int {
	fs := flag.NewFlagSet("journal backup", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var cf controlFlags
	cf.register(fs)
	to := fs.String("to", "", "the new file to write the copy to (it must not exist)")
	db := fs.String("db", "", "copy this journal file directly (no desk may hold it); default: ask the running desk")
	timeout := fs.Duration("timeout", time.Second, "--db: how long to wait for the file lock")
	if !parseArgs(e, fs, args) {
		return 2
	}
	if *to == "" || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "deskguard journal backup: --to NEWFILE is required (and takes no arguments)")
		return 2
	}
	dst, err := filepath.Abs(*to)
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard journal backup:", err)
		return 2
	}
	if _, err := os.Lstat(dst); err == nil {
		fmt.Fprintf(e.stderr, "deskguard journal backup: %s exists: a backup never overwrites a file\n", dst)
		return 2
	}
	if *db != "" {
		j, err := journal.Open(*db, journal.Options{ReadOnly: true, QuickOpen: true, Timeout: *timeout})
		if err != nil {
			fmt.Fprintf(e.stderr, "deskguard journal backup: %v (a running desk holds its journal: leave out --db to ask it)\n", err)
			return 2
		}
		defer j.Close()
		n, err := j.Backup(dst)
		if err != nil {
			fmt.Fprintln(e.stderr, "deskguard journal backup:", err)
			return 1
		}
		fmt.Fprintf(e.stdout, "wrote %s (%d bytes) from %s\n", dst, n, *db)
		return 0
	}
	resp, err := cf.call(e, deskapi.Request{Op: string(authz.JournalBackup), To: dst})
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard journal backup:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes), a consistent copy of %s taken by the running desk for %s\n", dst, resp.Bytes, resp.Journal, resp.Who)
	return 0
}

func journalTail(e *env, args []string) int {
	fs := flag.NewFlagSet("journal tail", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var cf controlFlags
	cf.register(fs)
	n := fs.Int("n", control.DefaultTail, "how many of the latest records")
	follow := fs.Bool("f", false, "follow: print each record as the desk commits it, until interrupted")
	asJSON := fs.Bool("json", false, "one JSON object per record (the Record fields)")
	account := fs.String("account", "", "only records of this account")
	if !parseArgs(e, fs, args) {
		return 2
	}
	if fs.NArg() > 0 || *n <= 0 || *n > control.MaxTail {
		fmt.Fprintf(e.stderr, "deskguard journal tail: -n between 1 and %d, no arguments\n", control.MaxTail)
		return 2
	}
	tok, err := cf.token()
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard journal tail:", err)
		return 1
	}
	enc := json.NewEncoder(e.stdout)
	print := func(resp deskapi.Response) error {
		for _, raw := range resp.Records {
			var r journal.Record
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("a record the desk sent: %w", err)
			}
			if *account != "" && r.Account != *account {
				continue
			}
			if *asJSON {
				if err := enc.Encode(r); err != nil {
					return err
				}
				continue
			}
			if _, err := fmt.Fprintln(e.stdout, dumpLine(r)); err != nil {
				return err
			}
		}
		return nil
	}
	req := deskapi.Request{Token: tok, Op: string(authz.JournalTail), Count: *n, Follow: *follow}
	if *follow {
		err = deskapi.Stream(e.ctx, cf.socket, req, print)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
	} else {
		ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
		defer cancel()
		var resp deskapi.Response
		if resp, err = deskapi.Call(ctx, cf.socket, req); err == nil {
			err = print(resp)
		}
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard journal tail:", err)
		return 1
	}
	return 0
}

// journalControl is the desk's open journal as the control socket serves
// it (control.Journal).
type journalControl struct{ j *journal.Journal }

func (c journalControl) Backup(path string) (int64, error) { return c.j.Backup(path) }
func (c journalControl) Last() (uint64, error)             { return c.j.Committed() }
func (c journalControl) Path() string                      { return c.j.Path() }

func (c journalControl) After(seq uint64, max int) ([]json.RawMessage, uint64, error) {
	var out []json.RawMessage
	last, err := c.j.ReadAfter(seq, max, func(r journal.Record, _ []byte) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		out = append(out, b)
		return nil
	})
	return out, last, err
}

func (c journalControl) Commits() (<-chan struct{}, func()) {
	f := c.j.Follow()
	return f.C, f.Close
}

var _ control.Journal = journalControl{}
