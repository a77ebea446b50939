package main

// cmd_report.go: deskguard report — unit economics from a trades CSV or a
// journal, as tables, JSON or a self-contained HTML page.

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/report"
)

func cmdReport(e *env) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	db := fs.String("db", "", "journal file written by deskguard run")
	trades := fs.String("trades", "", "CSV of round trips: account,strategy,side,qty,entry,exit[,fees]")
	from := fs.String("from", "", "first session date YYYY-MM-DD (journal only)")
	to := fs.String("to", "", "last session date YYYY-MM-DD (journal only)")
	account := fs.String("account", "", "only this account")
	asJSON := fs.Bool("json", false, "print JSON")
	htmlOut := fs.String("html", "", "write a self-contained HTML report to this file")
	var cf controlFlags
	cf.register(fs) // a running desk holding --db is asked for a copy
	zoneName := fs.String("zone", "", "IANA time zone the times are shown in (default: --config's [desk] time_zone, else the one the journal's desk recorded at start, else "+config.DefaultTimeZone+")")
	configPath := fs.String("config", "", "desk config whose [desk] time_zone the times are shown in")
	if !parseFlags(e, fs) {
		return 2
	}
	if (*db == "") == (*trades == "") {
		fmt.Fprintln(e.stderr, "deskguard report: give exactly one of --db JOURNAL or --trades FILE.csv")
		return 2
	}
	if *zoneName != "" {
		if _, err := displayZone(*zoneName, "", ""); err != nil {
			fmt.Fprintln(e.stderr, "deskguard report:", err)
			return 2
		}
	}
	var (
		err       error
		journaled string
		trips     []report.Trip
		corr      []report.Correction
		opt       report.HTMLOptions
	)
	if *trades != "" {
		f, ferr := openRegular(filepath.Clean(*trades))
		if ferr != nil {
			fmt.Fprintln(e.stderr, "deskguard report:", ferr)
			return 2
		}
		trips, err = report.ReadTripsCSV(f, *trades)
		f.Close()
		opt.Title = "deskguard report: " + filepath.Base(*trades)
	} else {
		var jt *journalTrips
		jt, opt, err = fromJournal(*db, *from, *to)
		if err != nil && journal.IsLocked(err) {
			jt, opt, err = fromRunningDesk(e, &cf, *db, *from, *to, err)
		}
		if jt != nil {
			trips, corr, journaled = jt.Trips, jt.Corrections, jt.Zone
		}
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard report:", err)
		return 2
	}
	zone, err := displayZone(*zoneName, *configPath, journaled)
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard report:", err)
		return 2
	}
	if *account != "" {
		var mine []report.Trip
		for _, t := range trips {
			if t.Account == *account {
				mine = append(mine, t)
			}
		}
		trips = mine
		var mc []report.Correction
		for _, c := range corr {
			if c.Account == *account {
				mc = append(mc, c)
			}
		}
		corr = mc
	}
	r := report.Build(trips)
	r.Corrections = append(r.Corrections, corr...)
	opt.Zone = zone
	opt.Generated = time.Now() // a wall clock in main: when the page was made
	if *htmlOut != "" {
		f, err := os.Create(filepath.Clean(*htmlOut))
		if err != nil {
			fmt.Fprintln(e.stderr, "deskguard report:", err)
			return 1
		}
		err = r.WriteHTML(f, opt)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintln(e.stderr, "deskguard report:", err)
			return 1
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", *htmlOut)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return 1
		}
		return 0
	}
	if *htmlOut == "" {
		if err := r.WriteText(e.stdout, report.TextOptions{Zone: zone}); err != nil {
			return 1
		}
	}
	return 0
}

// fromRunningDesk reports on a consistent copy of db that the running desk
// holding it takes over its control socket (journal_backup), into a
// private temporary directory removed afterwards. The desk must say the
// copy is of db itself; held is the lock error, returned (with why) when
// the desk cannot be asked.
func fromRunningDesk(e *env, cf *controlFlags, db, from, to string, held error) (*journalTrips, report.HTMLOptions, error) {
	dir, err := os.MkdirTemp("", "deskguard-report-")
	if err != nil {
		return nil, report.HTMLOptions{}, held
	}
	defer os.RemoveAll(dir)
	copyPath := filepath.Join(dir, "journal.copy")
	resp, err := cf.call(e, deskapi.Request{Op: string(authz.JournalBackup), To: copyPath})
	if err != nil {
		return nil, report.HTMLOptions{}, fmt.Errorf("%w; asking the desk on %s for a copy: %v", held, cf.socket, err)
	}
	if !sameFile(resp.Journal, db) {
		return nil, report.HTMLOptions{}, fmt.Errorf("%w; the desk on %s holds %s, not %s", held, cf.socket, resp.Journal, db)
	}
	fmt.Fprintf(e.stderr, "%s is held by the running desk: reporting on a consistent copy it took (%d bytes)\n", db, resp.Bytes)
	jt, opt, err := fromJournal(copyPath, from, to)
	if err == nil {
		opt.Title = strings.Replace(opt.Title, filepath.Base(copyPath), filepath.Base(db)+" (running desk)", 1)
	}
	return jt, opt, err
}

// sameFile reports whether paths a and b name one file.
func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// openRegular opens a regular file for reading; a directory, a FIFO (whose
// open would block) or a device such as /dev/zero (which never ends) is
// refused before it is opened.
func openRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		what := "a device, FIFO or socket"
		if fi.IsDir() {
			what = "a directory"
		}
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, what)
	}
	return os.Open(path)
}
