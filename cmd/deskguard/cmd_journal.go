package main

// cmd_journal.go: `deskguard journal dump|verify --db FILE`. Both open the
// journal read-only; bbolt's shared lock conflicts with a live desk's
// exclusive one, so against a running desk they fail with a clear "locked by
// pid N" error once the lock timeout (--timeout, 1s) runs out, instead of
// waiting forever (see docs/journal.md).

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
)

func cmdJournal(e *env) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: deskguard journal dump --db FILE [--json] [--account ID] [--since SEQ]")
		fmt.Fprintln(w, "       deskguard journal verify --db FILE")
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
