package main

// cmd_control.go: the commands that talk to a running desk over its
// control socket: status, flatten, rearm, unlock, clear, reset-trailing,
// press.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/deskapi"
)

// Defaults shared with `deskguard run`.
const (
	defaultSocket    = "deskguard.sock"
	defaultTokenFile = "deskguard.token"
)

type controlFlags struct {
	socket    string
	tokenFile string
}

func (c *controlFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.socket, "socket", defaultSocket, "the running desk's control socket")
	fs.StringVar(&c.tokenFile, "token-file", "", "file holding your token (default: $DESKGUARD_TOKEN, else ./"+defaultTokenFile+" written by a default desk)")
}

// token finds the caller's token without ever printing it.
func (c *controlFlags) token() (string, error) {
	if c.tokenFile == "" {
		if t := os.Getenv("DESKGUARD_TOKEN"); t != "" {
			return t, nil
		}
		c.tokenFile = defaultTokenFile
	}
	b, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return "", fmt.Errorf("no token: set DESKGUARD_TOKEN or --token-file (%v)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *controlFlags) call(e *env, req deskapi.Request) (deskapi.Response, error) {
	tok, err := c.token()
	if err != nil {
		return deskapi.Response{}, err
	}
	req.Token = tok
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	return deskapi.Call(context.WithoutCancel(ctx), c.socket, req)
}

// parseFlags parses e.args into fs. Asked for help (-h, -help, --help) it
// prints the usage to stdout and marks e helped (dispatch then exits 0);
// a bad flag prints the error and the usage to stderr. It reports whether
// the command should go on.
func parseFlags(e *env, fs *flag.FlagSet) bool { return parseArgs(e, fs, e.args) }

// parseArgs is parseFlags on args (a subcommand's).
func parseArgs(e *env, fs *flag.FlagSet, args []string) bool {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		e.helped = true
		_, _ = e.stdout.Write(buf.Bytes())
		return false
	}
	_, _ = e.stderr.Write(buf.Bytes())
	return err == nil
}

func cmdStatus(e *env) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var cf controlFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if !parseFlags(e, fs) {
		return 2
	}
	resp, err := cf.call(e, deskapi.Request{Op: "status"})
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard status:", err)
		return 1
	}
	st := resp.Status
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
		return 0
	}
	fmt.Fprintf(e.stdout, "desk %s  %s  last %.2f  trades %d  net %s  links: venue %s, data %s, slack %s, button %s\n",
		st.State, personTime(st.Time, st.Zone), st.LastPrice, st.Trades, st.Net, st.Links.Venue, st.Links.Data, st.Links.Slack, st.Links.PanicButton)
	if st.DeskLockedOut {
		fmt.Fprintln(e.stdout, "desk LOCKED OUT (desk-wide drawdown): entries refused until the session reset or `deskguard unlock --desk --reason R`")
	}
	if k := st.LastKill; k != nil {
		var waiting, notFlat []string
		for _, a := range k.Accounts {
			if a.Liquidation == "sent" {
				waiting = append(waiting, a.ID)
			}
			if !a.Flat {
				notFlat = append(notFlat, a.ID)
			}
		}
		fmt.Fprintf(e.stdout, "last kill: %s (%s by %s) at %s: %d accounts, %d liquidations not yet answered by the venue%s, %d not yet flat%s\n",
			k.Scope, k.Trigger, k.Who, personTime(k.Started, st.Zone), len(k.Accounts), len(waiting), listed(": ", waiting), len(notFlat), listed(": ", notFlat))
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tSTATE\tPOS\tAVG\tNET\tEQUITY\tLOCKOUT\tDD USED\tSTOPS\tLOSS AT STOP\tORDERS\tWORKER\tNEAREST")
	for _, a := range st.Accounts {
		stops := "covered"
		if !a.StopCovered {
			stops = "MISSING"
		}
		nearest := "-"
		if r := a.Risk; r != nil && r.NearestRule != "" {
			nearest = nearestText(r)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%s\t%s\t%s\t%.0f%%\t%s\t%s\t%d\t%s\t%s\n", a.ID, a.State, a.Position, a.AvgPrice,
			a.Net, a.Equity, a.LockoutLine, a.DrawdownUsed*100, stops, orDash(a.LossAtStop), len(a.Orders), a.Worker, nearest)
	}
	_ = tw.Flush()
	printFirm(e.stdout, st)
	printRisk(e.stdout, st)
	return 0
}

// nearestText is the rule nearest to tripping and what is left before it
// trips, as the account's risk usage has it (the one answer the desk
// gives: the console shows the same).
func nearestText(r *deskapi.RiskUsage) string {
	if r.NearestLeft == "" {
		return r.NearestRule
	}
	return r.NearestRule + " " + r.NearestLeft
}

// printFirm prints the desk's firm link (docs/firm.md): whether it hears
// the firm, its reduce-only, the outbox's progress and lag. Nothing for a
// desk without one that is not reduce-only by it.
func printFirm(w io.Writer, st *deskapi.Status) {
	f := st.Firm
	if f == nil {
		if st.FirmReduceOnly {
			fmt.Fprintln(w, "firm: no link; the desk is REDUCE-ONLY by the firm link")
		}
		return
	}
	link := "up"
	if !f.Up {
		link = "LOST"
		if f.DownSince != "" {
			link += " since " + personTime(f.DownSince, st.Zone)
		}
	}
	ob := "up"
	if !f.OutboxUp {
		ob = "DOWN"
		if f.OutboxSince != "" {
			ob += " since " + personTime(f.OutboxSince, st.Zone)
		}
		if f.OutboxError != "" {
			ob += " (" + f.OutboxError + ")"
		}
	}
	reduce := ""
	if st.FirmReduceOnly {
		reduce = "; the desk is REDUCE-ONLY by the firm link (entries and adds refused)"
	}
	fmt.Fprintf(w, "firm: desk %s, link %s; outbox %s, published %d of %d, lag %d%s\n", f.Desk, link, ob, f.Published, f.Committed, f.Lag, reduce)
}

// printRisk prints how much of each limit every account has used, the
// account nearest a limit first (docs/risk.md), times in the desk's zone.
func printRisk(w io.Writer, st *deskapi.Status) {
	var rows []deskapi.AccountStatus
	for _, a := range st.Accounts {
		if a.Risk != nil {
			rows = append(rows, a)
		}
	}
	if len(rows) == 0 {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Risk.NearestBP > rows[j].Risk.NearestBP })
	if st.DeskLevel != "" {
		fmt.Fprintf(w, "\nrisk (desk ladder %s), nearest a limit first\n", st.DeskLevel)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tLEVEL\tNEAREST\tUSED\tALLOWANCE USED\tTRAILING LINE\tWEEKLY LINE\tTRADES\tORDERS\tTIER\tMAX POS\tCOOLDOWN UNTIL\tNEXT RELEASE")
	for _, a := range rows {
		r := a.Risk
		tier := "—"
		if r.TierUnits > 0 {
			tier = fmt.Sprintf("%d (%d)", r.TierUnits, r.TierMaxPos)
		}
		trailing := orDashCLI(r.TrailingLine)
		if r.TrailingBroken {
			trailing += " BREACHED"
		}
		weekly := orDashCLI(r.WeeklyLine)
		if r.WeeklyBroken {
			weekly += " BREACHED"
		}
		next := "—"
		if r.NextRelease != "" {
			next = r.NextRelease + " " + personTime(r.NextReleaseAt, st.Zone)
		}
		cooldown := "—"
		if r.CooldownUntil != "" {
			cooldown = personTime(r.CooldownUntil, st.Zone)
		}
		nearest := "—"
		if r.NearestRule != "" {
			nearest = nearestText(r)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d.%02d%%\t%s of %s\t%s\t%s\t%d/%d\t%d/%d\t%s\t%d\t%s\t%s\n", a.ID, r.Level, nearest,
			r.NearestBP/100, r.NearestBP%100, r.AllowanceUsed, r.Allowance, trailing, weekly, r.TradesToday, r.TradeLimit,
			r.OrdersToday, r.OrderLimit, tier, r.MaxPosition, cooldown, next)
	}
	_ = tw.Flush()
}

func orDashCLI(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func cmdFlatten(e *env) int {
	fs := flag.NewFlagSet("flatten", flag.ContinueOnError)
	var cf controlFlags
	cf.register(fs)
	all := fs.Bool("all", false, "flatten the whole desk")
	account := fs.String("account", "", "flatten one account")
	if !parseFlags(e, fs) {
		return 2
	}
	if *all == (*account != "") {
		fmt.Fprintln(e.stderr, "deskguard flatten: give exactly one of --all or --account ID")
		return 2
	}
	resp, err := cf.call(e, deskapi.Request{Op: "flatten", Account: *account})
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard flatten:", err)
		return 1
	}
	scope := "desk"
	if *account != "" {
		scope = "account " + *account
	}
	if fa := resp.Flatten; fa != nil {
		fmt.Fprintf(e.stdout, "flatten %s: accepted (by %s), liquidations sent to %d accounts, %d not yet confirmed by the venue%s%s%s\n",
			scope, resp.Who, fa.Accounts, len(fa.Unconfirmed), listed(": ", fa.Unconfirmed), listed("; refused by the venue: ", fa.Refused),
			listed("; held behind the broker's own liquidation (sent once it is done): ", fa.Held))
		if len(fa.Unconfirmed) > 0 {
			fmt.Fprintln(e.stdout, "the kill goes on: `deskguard status` shows its progress")
		}
		return 0
	}
	fmt.Fprintf(e.stdout, "flatten %s: done (by %s)\n", scope, resp.Who)
	return 0
}

// listed is prefix and the ids joined, or "" when there are none.
func listed(prefix string, ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return prefix + strings.Join(ids, ", ")
}

func cmdRearm(e *env) int {
	fs := flag.NewFlagSet("rearm", flag.ContinueOnError)
	var cf controlFlags
	cf.register(fs)
	reason := fs.String("reason", "", "why the desk may trade again (required)")
	if !parseFlags(e, fs) {
		return 2
	}
	if _, err := authz.Reason(authz.Rearm, *reason); err != nil {
		fmt.Fprintf(e.stderr, "deskguard rearm: %v\nusage: deskguard rearm --reason \"why\"\n", err)
		return 2
	}
	resp, err := cf.call(e, deskapi.Request{Op: "rearm", Reason: *reason})
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard rearm:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "desk re-armed by %s\n", resp.Who)
	return 0
}

func cmdUnlock(e *env) int {
	fs := flag.NewFlagSet("unlock", flag.ContinueOnError)
	var cf controlFlags
	cf.register(fs)
	reason := fs.String("reason", "", "why the account (or the desk) may trade again today (required)")
	desk := fs.Bool("desk", false, "lift the desk-wide drawdown lockout instead of an account's")
	// Accept `unlock ID --reason R` as well as flags first.
	var id string
	if len(e.args) > 0 && !strings.HasPrefix(e.args[0], "-") {
		id, e.args = e.args[0], e.args[1:]
	}
	if !parseFlags(e, fs) {
		return 2
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	if *desk {
		if _, err := authz.Reason(authz.UnlockDesk, *reason); id != "" || err != nil {
			fmt.Fprintln(e.stderr, "deskguard unlock: usage: deskguard unlock --desk --reason \"why\" (no account)")
			return 2
		}
		resp, err := cf.call(e, deskapi.Request{Op: string(authz.UnlockDesk), Reason: *reason})
		if err != nil {
			fmt.Fprintln(e.stderr, "deskguard unlock:", err)
			return 1
		}
		fmt.Fprintf(e.stdout, "desk lockout lifted by %s (a halted desk still needs `deskguard rearm`)\n", resp.Who)
		return 0
	}
	if _, err := authz.Reason(authz.Unlock, *reason); id == "" || err != nil {
		fmt.Fprintln(e.stderr, "deskguard unlock: usage: deskguard unlock ACCOUNT --reason \"why\", or deskguard unlock --desk --reason \"why\"")
		return 2
	}
	resp, err := cf.call(e, deskapi.Request{Op: "unlock", Account: id, Reason: *reason})
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard unlock:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "account %s unlocked by %s\n", id, resp.Who)
	return 0
}

func cmdClear(e *env) int {
	fs := flag.NewFlagSet("clear", flag.ContinueOnError)
	var cf controlFlags
	cf.register(fs)
	reason := fs.String("reason", "", "why the faulted account may trade again (required)")
	// Accept `clear ID --reason R` as well as flags first.
	var id string
	if len(e.args) > 0 && !strings.HasPrefix(e.args[0], "-") {
		id, e.args = e.args[0], e.args[1:]
	}
	if !parseFlags(e, fs) {
		return 2
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	if _, err := authz.Reason(authz.Clear, *reason); id == "" || err != nil {
		fmt.Fprintln(e.stderr, "deskguard clear: usage: deskguard clear ACCOUNT --reason \"why\"")
		return 2
	}
	resp, err := cf.call(e, deskapi.Request{Op: "clear", Account: id, Reason: *reason})
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard clear:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "account %s: fault cleared by %s\n", id, resp.Who)
	return 0
}

func cmdResetTrailing(e *env) int {
	fs := flag.NewFlagSet("reset-trailing", flag.ContinueOnError)
	var cf controlFlags
	cf.register(fs)
	reason := fs.String("reason", "", "why the account's breached trailing line may start again (required)")
	// Accept `reset-trailing ID --reason R` as well as flags first.
	var id string
	if len(e.args) > 0 && !strings.HasPrefix(e.args[0], "-") {
		id, e.args = e.args[0], e.args[1:]
	}
	if !parseFlags(e, fs) {
		return 2
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	if _, err := authz.Reason(authz.ResetTrailing, *reason); id == "" || err != nil {
		fmt.Fprintln(e.stderr, "deskguard reset-trailing: usage: deskguard reset-trailing ACCOUNT --reason \"why\"")
		return 2
	}
	resp, err := cf.call(e, deskapi.Request{Op: string(authz.ResetTrailing), Account: id, Reason: *reason})
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard reset-trailing:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "account %s: trailing line reset by %s\n", id, resp.Who)
	return 0
}

func cmdPress(e *env) int {
	fs := flag.NewFlagSet("press", flag.ContinueOnError)
	var cf controlFlags
	cf.register(fs)
	if !parseFlags(e, fs) {
		return 2
	}
	_, err := cf.call(e, deskapi.Request{Op: "press"})
	if errors.Is(err, deskapi.ErrNoSimButton) || (err != nil && strings.Contains(err.Error(), "not simulated")) {
		fmt.Fprintln(e.stderr, "deskguard press: this desk's panic button is real hardware; press the real one")
		return 1
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard press:", err)
		return 1
	}
	fmt.Fprintln(e.stdout, "panic button pressed (simulated)")
	return 0
}

// personTime is an API time (RFC 3339 UTC) in the desk's zone, labelled
// (the zone named by the status; New York's when it names none).
func personTime(rfc3339, zone string) string {
	if zone == "" {
		zone = config.DefaultTimeZone
	}
	return deskapi.Local(rfc3339, zone, "2006-01-02 15:04:05 MST")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
