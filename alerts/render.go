// render.go: Block Kit messages for every alert kind (one look tells the
// story), the status reply, and the money/percent/time formats they use.

package alerts

import (
	"fmt"
	"strings"
	"time"

	"github.com/deskguard/deskguard/market"
	"github.com/shopspring/decimal"
	"github.com/slack-go/slack"
)

// Action ids of the buttons on kill and lockout messages. The button's value
// is the account id (flatten account) or "all" (flatten desk).
const (
	ActionFlattenAccount = "deskguard_flatten_account"
	ActionFlattenDesk    = "deskguard_flatten_desk"
)

// Message is a rendered alert: the notification text (also the fallback for
// clients without blocks) and the blocks.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// Money formats an amount as "$46.00", "-$50.00", "$100,000.00".
func Money(d decimal.Decimal) string {
	s := d.Abs().StringFixed(2)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if d.IsNegative() && s != "0.00" {
		b.WriteByte('-')
	}
	b.WriteByte('$')
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	b.WriteByte('.')
	b.WriteString(frac)
	return b.String()
}

// Percent formats a fraction as a percentage with two decimals: 0.0152 → "1.52%".
func Percent(frac decimal.Decimal) string {
	return frac.Shift(2).StringFixed(2) + "%"
}

// clockIn is a time of day in loc (nil: New York), labelled: "ET" for New
// York, "CT" for Chicago (the exchange's), else the zone's abbreviation.
func clockIn(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = market.NewYork
	}
	t = t.In(loc)
	switch loc.String() {
	case "America/New_York":
		return t.Format("15:04:05") + " ET"
	case "America/Chicago":
		return t.Format("15:04:05") + " CT"
	}
	return t.Format("15:04:05 MST")
}

// dayIn is the date of t in loc (nil: New York).
func dayIn(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = market.NewYork
	}
	return t.In(loc).Format("Mon 2 Jan 2006")
}

func posText(q int64) string {
	switch {
	case q > 0:
		return fmt.Sprintf("long %d", q)
	case q < 0:
		return fmt.Sprintf("short %d", -q)
	}
	return "flat"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// facts builds a section of "*label*\nvalue" fields from label, value pairs.
func facts(pairs ...string) *slack.SectionBlock {
	var fs []*slack.TextBlockObject
	for i := 0; i+1 < len(pairs); i += 2 {
		fs = append(fs, mrkdwn("*"+pairs[i]+"*\n"+orDash(pairs[i+1])))
	}
	return slack.NewSectionBlock(nil, fs, nil)
}

func header(s string) *slack.HeaderBlock { return slack.NewHeaderBlock(plain(s)) }

func button(actionID, value, label, confirm string) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, value, plain(label))
	b.Style = slack.StyleDanger
	b.Confirm = slack.NewConfirmationBlockObject(plain("Flatten?"), mrkdwn(confirm), plain("Flatten"), plain("Cancel"))
	return b
}

func flattenButtons(account string) *slack.ActionBlock {
	var els []slack.BlockElement
	if account != "" {
		els = append(els, button(ActionFlattenAccount, account, "Flatten account",
			"Cancel every working order of *"+account+"* and flatten its position?"))
	}
	els = append(els, button(ActionFlattenDesk, "all", "Flatten desk",
		"Cancel every working order of *every account* and flatten the desk?"))
	return slack.NewActionBlock("deskguard_flatten", els...)
}

func sevEmoji(s Severity) string {
	switch s {
	case Critical:
		return ":rotating_light:"
	case Warning:
		return ":warning:"
	}
	return ":information_source:"
}

// Render turns an alert into its Slack message with its times in New
// York's zone (RenderIn for the desk's).
func Render(a Alert) Message { return RenderIn(a, nil) }

// RenderIn turns an alert into its Slack message, its times in loc (nil:
// New York), labelled. It reads nothing but the alert and loc, so the same
// alert always renders the same bytes.
func RenderIn(a Alert, loc *time.Location) Message {
	var (
		title  string
		blocks []slack.Block
	)
	acct := orDash(a.Account)
	when := clockIn(a.At, loc)
	switch a.Kind {
	case KindKill:
		f := a.Kill
		if f == nil {
			f = &KillFacts{}
		}
		scope := "desk"
		if f.Scope != "" {
			scope = "account " + f.Scope
		}
		title = fmt.Sprintf("KILL %s — %s by %s", scope, orDash(f.Trigger), orDash(f.Who))
		var pos []string
		for _, p := range f.Flattened {
			pos = append(pos, p.Account+" "+posText(p.Qty))
		}
		blocks = append(blocks, facts(
			"Trigger", f.Trigger, "Who", f.Who,
			"Accounts", fmt.Sprintf("%d: %s", len(f.Accounts), strings.Join(f.Accounts, ", ")),
			"Positions flattened", strings.Join(pos, ", "),
			"Net PnL", Money(f.NetPnL), "Time", when))
	case KindLockout:
		f := a.Lockout
		if f == nil {
			f = &LockoutFacts{}
		}
		dd := f.StartEquity.Sub(f.Equity)
		ddFrac := decimal.Zero
		if !f.StartEquity.IsZero() {
			ddFrac = dd.Div(f.StartEquity)
		}
		line := f.StartEquity.Mul(decimal.NewFromInt(1).Sub(f.Limit))
		title = fmt.Sprintf("LOCKOUT %s — drawdown %s ≥ limit %s", acct, Percent(ddFrac), Percent(f.Limit))
		blocks = append(blocks, facts(
			"Account", a.Account, "Equity", Money(f.Equity),
			"Drawdown", fmt.Sprintf("%s (%s)", Money(dd), Percent(ddFrac)),
			"Limit", fmt.Sprintf("%s (%s) — line %s", Money(f.StartEquity.Mul(f.Limit)), Percent(f.Limit), Money(line)),
			"Session start equity", Money(f.StartEquity), "Time", when))
		a.Detail = joinDetail("Engines halted, orders cancelled, position flattened. Locked until the next session reset or an early unlock by the risk manager.", a.Detail)
	case KindWorkerCrash:
		title = "Worker crashed — " + acct
		blocks = append(blocks, facts("Account", a.Account, "Time", when))
	case KindWorkerRestart:
		w := a.Worker
		if w == nil {
			w = &WorkerFacts{}
		}
		title = "Worker restarting — " + acct
		blocks = append(blocks, facts("Account", a.Account, "Attempt", fmt.Sprint(w.Attempt),
			"Backoff", w.Backoff.String(), "Time", when))
	case KindWorkerFault:
		title = "Account FAULTED — " + acct
		blocks = append(blocks, facts("Account", a.Account, "Time", when))
		a.Detail = joinDetail(a.Detail, "The account is halted and being flattened; it needs the risk manager.")
	case KindStopRepaired:
		s := a.Stop
		if s == nil {
			s = &StopFacts{}
		}
		title = "Stop coverage repaired — " + acct
		blocks = append(blocks, facts("Account", a.Account, "Position", posText(s.Position),
			"Covered before", fmt.Sprintf("%d of %d", s.Covered, abs64(s.Position)), "Repair", s.Action, "Time", when))
	case KindLinkLost:
		l := linkOf(a)
		title = fmt.Sprintf("%s link LOST", l.Link)
		blocks = append(blocks, facts("Link", l.Link, "Since", when))
		a.Detail = joinDetail(a.Detail, "Desk degraded: no new entries; brackets stay at the venue.")
	case KindLinkBack:
		l := linkOf(a)
		title = fmt.Sprintf("%s link back", l.Link)
		blocks = append(blocks, facts("Link", l.Link, "Down for", l.DownFor.Round(time.Second).String(), "Time", when))
	case KindReconcileMismatch:
		r := a.Reconcile
		if r == nil {
			r = &ReconcileFacts{}
		}
		title = "Reconciliation MISMATCH — " + acct
		blocks = append(blocks, facts("Account", a.Account, "Journal says", posText(r.JournalPosition),
			"Venue says", posText(r.VenuePosition), "Action", r.Action, "Time", when))
	case KindRearmed:
		r := rearmOf(a)
		title = "Desk re-armed by " + orDash(r.Who)
		blocks = append(blocks, facts("Who", r.Who, "Why", r.Why, "Time", when))
	case KindUnlocked:
		r := rearmOf(a)
		if a.Account == "" { // the desk-wide drawdown lockout
			title = "Desk lockout lifted early by " + orDash(r.Who)
			blocks = append(blocks, facts("Scope", "desk", "Who", r.Who, "Why", r.Why, "Time", when))
			break
		}
		title = fmt.Sprintf("%s unlocked early by %s", acct, orDash(r.Who))
		blocks = append(blocks, facts("Account", a.Account, "Who", r.Who, "Why", r.Why, "Time", when))
	case KindFaultCleared:
		r := rearmOf(a)
		title = fmt.Sprintf("%s fault cleared by %s", acct, orDash(r.Who))
		blocks = append(blocks, facts("Account", a.Account, "Who", r.Who, "Why", r.Why, "Time", when))
	case KindDailySummary:
		s := a.Summary
		if s == nil {
			s = &SummaryFacts{}
		}
		title = "Daily summary " + orDash(s.Session)
		table, net := summaryTable(s)
		title += " — desk net " + Money(net)
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("```\n"+table+"```"), nil, nil))
	case KindJournalFailed:
		title = "JOURNAL FAILED"
		blocks = append(blocks, facts("Time", when))
	case KindRiskWarning, KindReduceOnly:
		f := riskOf(a)
		who := "desk"
		if a.Account != "" {
			who = a.Account
		}
		rung := "WARNING"
		if a.Kind == KindReduceOnly {
			rung = "REDUCE-ONLY"
		}
		title = fmt.Sprintf("%s %s — %s of the day's allowance used", rung, who, Percent(f.Used))
		blocks = append(blocks, facts("Account", orDash(a.Account), "Equity", Money(f.Equity),
			"Used", fmt.Sprintf("%s of %s", Money(f.From.Sub(f.Equity)), Money(f.From.Sub(f.Line))),
			"Lockout line", Money(f.Line), "Session start equity", Money(f.From), "Time", when))
		if a.Kind == KindReduceOnly {
			a.Detail = joinDetail("No new entries or adds; exits, tighter stops and cancels still go. Until the next session reset or an unlock.", a.Detail)
		}
		a.Detail = joinDetail(a.Detail, f.Next)
	case KindTrailingBreach, KindWeeklyBreach:
		f := riskOf(a)
		line, from := "Trailing line", "Peak"
		title = "TRAILING DRAWDOWN " + acct + " — equity at or below the trailing line"
		next := "Engines halted, orders cancelled, position flattened. Locked until the risk manager resets the trailing line (deskguard reset-trailing)."
		if a.Kind == KindWeeklyBreach {
			line, from = "Weekly line", "Week's start equity"
			title = "WEEKLY LOSS " + acct + " — equity at or below the week's line"
			next = "Engines halted, orders cancelled, position flattened. Locked until the next trading week (Sunday 18:00 ET) or an early unlock by the risk manager."
		}
		blocks = append(blocks, facts("Account", a.Account, "Equity", Money(f.Equity), line, Money(f.Line),
			from, Money(f.From), "Time", when))
		a.Detail = joinDetail(next, a.Detail)
	case KindBlackoutFlatten:
		f := riskOf(a)
		title = fmt.Sprintf("News blackout — %s flattened ahead of %s", acct, orDash(f.Release))
		at := "—"
		if !f.ReleaseAt.IsZero() {
			at = clockIn(f.ReleaseAt, loc)
		}
		blocks = append(blocks, facts("Account", a.Account, "Release", f.Release, "At", at, "Time", when))
		a.Detail = joinDetail("Orders cancelled, position flattened; no entries until the blackout ends.", a.Detail)
	case KindTrailingReset:
		r := rearmOf(a)
		title = fmt.Sprintf("%s trailing line reset by %s", acct, orDash(r.Who))
		blocks = append(blocks, facts("Account", a.Account, "Who", r.Who, "Why", r.Why, "Time", when))
	case KindBroker:
		what := "the broker"
		if a.Broker != nil && a.Broker.What != "" {
			what = a.Broker.What
		}
		title = "Broker: " + what
		if a.Account != "" {
			title += " — " + acct
		}
		blocks = append(blocks, facts("Account", a.Account, "What", what, "Time", when))
	default:
		title = string(a.Kind) + " " + acct
		blocks = append(blocks, facts("Account", a.Account, "Time", when))
	}
	head := sevEmoji(a.Severity) + " " + title
	all := []slack.Block{header(head)}
	all = append(all, blocks...)
	if a.Detail != "" {
		all = append(all, slack.NewSectionBlock(mrkdwn(a.Detail), nil, nil))
	}
	if a.Kind == KindKill || a.Kind == KindLockout || a.Kind == KindTrailingBreach || a.Kind == KindWeeklyBreach {
		all = append(all, flattenButtons(a.Account))
	}
	ctx := fmt.Sprintf("deskguard · %s · %s · %s", a.Kind, a.Severity, dayIn(a.At, loc))
	if a.Repeats > 0 {
		ctx = fmt.Sprintf("%d more since %s (this is the latest) · ", a.Repeats, clockIn(a.Since, loc)) + ctx
		head += fmt.Sprintf(" (%d more since %s)", a.Repeats, clockIn(a.Since, loc))
	}
	all = append(all, slack.NewContextBlock("", mrkdwn(ctx)))
	return Message{Text: head, Blocks: all}
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func linkOf(a Alert) LinkFacts {
	if a.Link == nil {
		return LinkFacts{Link: "?"}
	}
	return *a.Link
}

func riskOf(a Alert) RiskFacts {
	if a.Risk == nil {
		return RiskFacts{}
	}
	return *a.Risk
}

func rearmOf(a Alert) RearmFacts {
	if a.Rearm == nil {
		return RearmFacts{}
	}
	return *a.Rearm
}

// summaryTable renders the per-account rows and the desk total as a
// fixed-width table; it returns the desk's net too.
func summaryTable(s *SummaryFacts) (string, decimal.Decimal) {
	var b strings.Builder
	row := func(acct, trades, win, net, dd string) {
		fmt.Fprintf(&b, "%-10s %6s %6s %12s %8s\n", acct, trades, win, net, dd)
	}
	winRate := func(w, n int) string {
		if n == 0 {
			return "—"
		}
		return decimal.NewFromInt(int64(w)).Div(decimal.NewFromInt(int64(n))).Shift(2).StringFixed(0) + "%"
	}
	row("account", "trades", "win", "net", "dd used")
	var trades, wins int
	net := decimal.Zero
	for _, r := range s.Accounts {
		row(r.Account, fmt.Sprint(r.Trades), winRate(r.Wins, r.Trades), Money(r.Net), Percent(r.DrawdownUsed))
		trades += r.Trades
		wins += r.Wins
		net = net.Add(r.Net)
	}
	row("DESK", fmt.Sprint(trades), winRate(wins, trades), Money(net), Percent(s.DeskDrawdownUsed))
	return b.String(), net
}

// StatusReport is the desk at one instant, as Slack shows it.
type StatusReport struct {
	State    string // desk state: running, degraded, halting, halted, ...
	At       time.Time
	Accounts []AccountStatus
	Zone     *time.Location // the desk's zone for At (nil: New York)
}

// AccountStatus is one account in a StatusReport.
type AccountStatus struct {
	ID            string
	State         string // idle, trading, halted, locked_out, faulted, ...
	Position      int64  // signed contracts
	Net           decimal.Decimal
	DrawdownUsed  decimal.Decimal // fraction of the day's allowance used
	WorkingOrders int
}

// RenderStatus renders a status reply.
func RenderStatus(s StatusReport) Message {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-11s %-9s %12s %8s %7s\n", "account", "state", "position", "net", "dd used", "orders")
	net := decimal.Zero
	for _, a := range s.Accounts {
		fmt.Fprintf(&b, "%-10s %-11s %-9s %12s %8s %7d\n", a.ID, a.State, posText(a.Position), Money(a.Net), Percent(a.DrawdownUsed), a.WorkingOrders)
		net = net.Add(a.Net)
	}
	head := fmt.Sprintf("Desk %s — net %s — %s", orDash(s.State), Money(net), clockIn(s.At, s.Zone))
	return Message{Text: head, Blocks: []slack.Block{
		slack.NewSectionBlock(mrkdwn("*"+head+"*"), nil, nil),
		slack.NewSectionBlock(mrkdwn("```\n"+b.String()+"```"), nil, nil),
	}}
}
