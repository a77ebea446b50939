package metrics

// desk.go: the desk's state as metrics, read at scrape time — a
// prometheus.Collector that asks the desk for its Status and Counts when
// Prometheus scrapes, never pushed from the tick, intent or event paths.
// The counters (intents, orders, fills, rejections, worker restarts) are
// the desk's own running counts; the gauges (equity, lockout line,
// allowance used, position, states, links) are its Status.

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/limits"
	"github.com/deskguard/deskguard/supervisor"
)

// Desk is what the collector reads: *supervisor.Desk.
type Desk interface {
	Status(ctx context.Context) deskapi.Status
	Counts() []supervisor.AccountCounts
}

// DeskOptions configures NewDesk.
type DeskOptions struct {
	Desk Desk // required
	// StreamClients is the console's status stream clients (SSE); nil =
	// no console, the gauge is not exported.
	StreamClients func() int
	// OutboxLag is the journal records committed and not yet acknowledged
	// by the firm's stream; FirmUp is the firm link's heartbeat state. Nil
	// (both) = no firm configured: neither is exported.
	OutboxLag func() uint64
	FirmUp    func() bool
}

// DeskCollector is the scrape-time collector of the desk's counts and
// state.
type DeskCollector struct {
	opt DeskOptions
}

// NewDesk returns the desk's collector; register it with the registry.
func NewDesk(opt DeskOptions) *DeskCollector { return &DeskCollector{opt: opt} }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// The families. Account ids are bounded by the config, reasons by the
// limits package's reason codes, states by the machines' states, links by
// the five the desk has; order ids and free text are never labels.
var (
	dIntents  = desc("deskguard_intents_total", "Intents gated (accepted or refused) since the desk started, by account.", "account")
	dOrders   = desc("deskguard_orders_total", "Intents the gate accepted (orders toward the venue) since the desk started, by account.", "account")
	dFills    = desc("deskguard_fills_total", "Fills booked since the desk started, by account.", "account")
	dRejects  = desc("deskguard_rejections_total", "Intents refused since the desk started, by account and reason code.", "account", "reason")
	dRestarts = desc("deskguard_worker_restarts_total", "Worker process restarts since the desk started, by account.", "account")

	dEquity   = desc("deskguard_account_equity_dollars", "Account equity (start equity plus realized and unrealized P&L less fees).", "account")
	dLine     = desc("deskguard_account_lockout_line_dollars", "Account drawdown lockout line: equity at or below it locks the account out.", "account")
	dUsed     = desc("deskguard_account_allowance_used_dollars", "Account drawdown allowance used: start equity minus equity (negative when up on the day).", "account")
	dAllow    = desc("deskguard_account_allowance_dollars", "Account drawdown allowance for the day: start equity minus the lockout line.", "account")
	dUsedFrac = desc("deskguard_account_drawdown_used_ratio", "Share of the account's drawdown allowance used, 0 to 1.", "account")
	dPos      = desc("deskguard_account_position_contracts", "Account net position in contracts (negative short).", "account")
	dWorking  = desc("deskguard_account_working_orders", "Account orders working at the venue.", "account")
	dAcctSt   = desc("deskguard_account_state", "Account state machine: 1 for the state the account is in.", "account", "state")
	dNearest  = desc("deskguard_account_nearest_rule_used_ratio", "Share used of the risk rule nearest to tripping (1 = at it), by account and rule.", "account", "rule")

	dDeskSt    = desc("deskguard_desk_state", "Desk state machine: 1 for the state the desk is in.", "state")
	dDeskEq    = desc("deskguard_desk_equity_dollars", "Desk equity: the sum of the accounts'.")
	dDeskLine  = desc("deskguard_desk_lockout_line_dollars", "Desk aggregate drawdown lockout line.")
	dDeskUsed  = desc("deskguard_desk_drawdown_used_ratio", "Share of the desk's aggregate drawdown allowance used, 0 to 1.")
	dTrades    = desc("deskguard_feed_trades", "Market trades the desk has processed in this session.")
	dLinkUp    = desc("deskguard_link_up", "Outside link health: 1 up (venue up or simulated, data up, Slack up, button ok or simulated, firm heartbeat seen), 0 otherwise (down, stale, ended, off, failing, offline).", "link")
	dLinkState = desc("deskguard_link_state", "Outside link state: 1 for the state the link is in.", "link", "state")
	dClients   = desc("deskguard_console_stream_clients", "Console status stream (server-sent events) clients connected.")
	dLag       = desc("deskguard_outbox_lag_records", "Journal records committed and not yet acknowledged by the firm's stream.")
)

// Describe implements prometheus.Collector.
func (c *DeskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dIntents, dOrders, dFills, dRejects, dRestarts, dEquity, dLine, dUsed, dAllow,
		dUsedFrac, dPos, dWorking, dAcctSt, dNearest, dDeskSt, dDeskEq, dDeskLine, dDeskUsed, dTrades, dLinkUp, dLinkState} {
		ch <- d
	}
	if c.opt.StreamClients != nil {
		ch <- dClients
	}
	if c.opt.OutboxLag != nil {
		ch <- dLag
	}
}

// Collect implements prometheus.Collector: one Counts and one Status.
func (c *DeskCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	// money is a decimal string as a gauge; an empty one (a rule that is
	// off) is left out, a malformed one is a scrape error for that family.
	money := func(d *prometheus.Desc, s string, labels ...string) {
		if s == "" {
			return
		}
		v, err := decimal.NewFromString(s)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(d, err)
			return
		}
		gauge(d, v.InexactFloat64(), labels...)
	}
	for _, a := range c.opt.Desk.Counts() {
		counter(dIntents, a.Intents, a.ID)
		counter(dOrders, a.Orders, a.ID)
		counter(dFills, a.Fills, a.ID)
		counter(dRestarts, a.Restarts, a.ID)
		// Every reason code, zero until it refuses (the family is there
		// from the first scrape), and any other reason the desk counted.
		for _, r := range reasons {
			counter(dRejects, a.Rejections[string(r)], a.ID, string(r))
		}
		for reason, n := range a.Rejections {
			if !known[reason] {
				counter(dRejects, n, a.ID, reason)
			}
		}
	}
	st := c.opt.Desk.Status(context.Background())
	for _, a := range st.Accounts {
		money(dEquity, a.Equity, a.ID)
		money(dLine, a.LockoutLine, a.ID)
		gauge(dUsedFrac, a.DrawdownUsed, a.ID)
		gauge(dPos, float64(a.Position), a.ID)
		gauge(dWorking, float64(len(a.Orders)), a.ID)
		gauge(dAcctSt, 1, a.ID, a.State)
		if r := a.Risk; r != nil {
			money(dUsed, r.AllowanceUsed, a.ID)
			money(dAllow, r.Allowance, a.ID)
			if r.NearestRule != "" {
				gauge(dNearest, float64(r.NearestBP)/10000, a.ID, r.NearestRule)
			}
		}
	}
	gauge(dDeskSt, 1, st.State)
	money(dDeskEq, st.Equity)
	money(dDeskLine, st.DeskLockout)
	gauge(dDeskUsed, st.DrawdownUsed)
	gauge(dTrades, float64(st.Trades))
	links := []struct{ name, state string }{{"venue", st.Links.Venue}, {"data", st.Links.Data}, {"slack", st.Links.Slack},
		{"panic_button", st.Links.PanicButton}}
	if c.opt.FirmUp != nil {
		fs := "down"
		if c.opt.FirmUp() {
			fs = "up"
		}
		links = append(links, struct{ name, state string }{"firm", fs})
	}
	for _, l := range links {
		s := LinkState(l.state)
		up := 0.0
		if s == "up" || s == "ok" || s == "sim" {
			up = 1
		}
		gauge(dLinkUp, up, l.name)
		gauge(dLinkState, 1, l.name, s)
	}
	if c.opt.StreamClients != nil {
		gauge(dClients, float64(c.opt.StreamClients()))
	}
	if c.opt.OutboxLag != nil {
		gauge(dLag, float64(c.opt.OutboxLag()))
	}
}

// reasons are the gate's reason codes, each a rejections series of its
// own for every account.
var reasons = limits.Reasons()

var known = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range reasons {
		m[string(r)] = true
	}
	return m
}()

// linkStates are the link states that are label values of their own
// (deskapi.Links); anything else is "other".
var linkStates = map[string]bool{"up": true, "down": true, "sim": true, "stale": true, "ended": true, "off": true,
	"failing": true, "ok": true, "offline": true}

// LinkState is a link's status as a bounded label value: its first word
// ("offline: gpio read failed" → "offline"), "none" when empty, "other"
// when not one of the desk's states.
func LinkState(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ": "); i >= 0 {
		s = s[:i]
	}
	switch {
	case s == "":
		return "none"
	case linkStates[s]:
		return s
	}
	return "other"
}
