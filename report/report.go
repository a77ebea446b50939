// Package report computes a desk's unit economics from its round trips:
// per account, per strategy and for the desk — trades, wins, losses, win
// rate, average win and loss in ticks and dollars, gross profit and loss,
// fees, net, expectancy, the day's max drawdown and the seed document's
// scaling line. Money is decimal; the JSON form writes it as strings with
// two decimals.
//
// It may touch only market and shopspring/decimal, and writes text, JSON or HTML to the writer it is
// given; reading a journal for it is cmd/deskguard's job.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/market"
)

// Trip is one round trip as reports see it: an entry and all its exits,
// whatever the fill fragments.
type Trip struct {
	Account  string
	Strategy string
	ID       string       // the entry order's client id (journal trips; "" from CSV)
	Side     market.Side  // the position's side: buy = long
	Qty      int64        // contracts
	Entry    market.Price // average entry, to the nearest tick
	Exit     market.Price // average exit, to the nearest tick
	// TickQty is the result in ticks summed over every contract (Σ ticks ×
	// contracts of each piece): exact where Entry and Exit are rounded.
	TickQty int64
	Fills   int // fills booked, entry and exit fragments (0 from CSV)
	// EntrySeq and ExitSeq are the journal records of the first entry fill
	// and the last exit fill (0 from CSV).
	EntrySeq, ExitSeq uint64
	EntryTime         int64 // ns UTC; 0 when unknown (CSV)
	ExitTime          int64
	Fees              decimal.Decimal // for the whole round trip (all contracts)
}

// MarshalJSON writes a trip with prices in index points and money as
// strings with two decimals.
func (t Trip) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Account   string  `json:"account"`
		Strategy  string  `json:"strategy"`
		ID        string  `json:"id,omitempty"`
		Side      string  `json:"side"`
		Qty       int64   `json:"qty"`
		Entry     float64 `json:"entry"`
		Exit      float64 `json:"exit"`
		Ticks     int64   `json:"tick_qty"`
		Fills     int     `json:"fills,omitempty"`
		EntryTime int64   `json:"entry_time,omitempty"`
		ExitTime  int64   `json:"exit_time,omitempty"`
		EntrySeq  uint64  `json:"entry_seq,omitempty"`
		ExitSeq   uint64  `json:"exit_seq,omitempty"`
		Gross     string  `json:"gross"`
		Fees      string  `json:"fees"`
		Net       string  `json:"net"`
	}{t.Account, t.Strategy, t.ID, t.Side.String(), t.Qty, t.Entry.Points(), t.Exit.Points(), t.TickQty, t.Fills, t.EntryTime, t.ExitTime,
		t.EntrySeq, t.ExitSeq, money(t.Gross()), money(t.Fees), money(t.Net())})
}

// Ticks is the result per contract in the position's favour.
func (t Trip) Ticks() float64 {
	if t.Qty == 0 {
		return 0
	}
	return float64(t.TickQty) / float64(t.Qty)
}

// Gross is the result in ticks × $1.25.
func (t Trip) Gross() decimal.Decimal {
	return market.MES().TickValue.Mul(decimal.NewFromInt(t.TickQty))
}

// Net is Gross − Fees.
func (t Trip) Net() decimal.Decimal { return t.Gross().Sub(t.Fees) }

// Stats is one row of the report.
type Stats struct {
	Scope        string  `json:"scope"` // "desk", "account", "strategy"
	Account      string  `json:"account,omitempty"`
	Strategy     string  `json:"strategy,omitempty"`
	Trades       int     `json:"trades"`    // round trips: an entry and its exits
	Contracts    int64   `json:"contracts"` // contracts over those round trips
	Wins         int     `json:"wins"`
	Losses       int     `json:"losses"`
	WinRate      float64 `json:"win_rate"`       // 0..1
	AvgWinTicks  float64 `json:"avg_win_ticks"`  // per contract
	AvgLossTicks float64 `json:"avg_loss_ticks"` // per contract, positive
	AvgWin       string  `json:"avg_win"`
	AvgLoss      string  `json:"avg_loss"`
	GrossProfit  string  `json:"gross_profit"`
	GrossLoss    string  `json:"gross_loss"` // positive number: the money lost
	Fees         string  `json:"fees"`
	Net          string  `json:"net"`
	Expectancy   string  `json:"expectancy"` // net per trade
	MaxDrawdown  string  `json:"max_drawdown"`
	NetPerUnit   string  `json:"net_per_unit"` // net per contract traded per trade-size unit
	NetTenUnits  string  `json:"net_10_units"`

	net decimal.Decimal
}

// Report is the whole report.
type Report struct {
	Desk       Stats   `json:"desk"`
	Accounts   []Stats `json:"accounts"`
	Strategies []Stats `json:"strategies"` // per account and strategy
	// StrategyTotals is each strategy across the desk (Account "").
	StrategyTotals []Stats `json:"strategy_totals"`
	// Corrections are the reconciliations that changed a position: not
	// trades, not in any figure above.
	Corrections []Correction `json:"corrections"`
	Trips       []Trip       `json:"trips"`
	Derived     bool         `json:"derived,omitempty"`
}

// Build computes the report from round trips.
func Build(trips []Trip) *Report {
	r := &Report{Trips: trips, Corrections: []Correction{}}
	r.Desk = compute("desk", "", "", trips)
	byAcct := map[string][]Trip{}
	byStrat := map[string][]Trip{}
	byTotal := map[string][]Trip{}
	for _, t := range trips {
		byAcct[t.Account] = append(byAcct[t.Account], t)
		byStrat[t.Account+"\x00"+t.Strategy] = append(byStrat[t.Account+"\x00"+t.Strategy], t)
		byTotal[t.Strategy] = append(byTotal[t.Strategy], t)
	}
	for _, k := range sortedKeys(byTotal) {
		r.StrategyTotals = append(r.StrategyTotals, compute("strategy", "", k, byTotal[k]))
	}
	for _, k := range sortedKeys(byAcct) {
		r.Accounts = append(r.Accounts, compute("account", k, "", byAcct[k]))
	}
	for _, k := range sortedKeys(byStrat) {
		a, s, _ := strings.Cut(k, "\x00")
		r.Strategies = append(r.Strategies, compute("strategy", a, s, byStrat[k]))
	}
	return r
}

func sortedKeys(m map[string][]Trip) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func compute(scope, account, strategy string, trips []Trip) Stats {
	s := Stats{Scope: scope, Account: account, Strategy: strategy, Trades: len(trips)}
	gp, gl, fees, net := decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
	var winTicks, lossTicks, winQty, lossQty int64
	// Max drawdown of the cumulative net, in trade order by exit time.
	ordered := append([]Trip(nil), trips...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].ExitTime < ordered[j].ExitTime })
	peak, cum, maxDD := decimal.Zero, decimal.Zero, decimal.Zero
	var units int64
	for _, t := range ordered {
		g := t.Gross()
		s.Contracts += t.Qty
		if g.IsPositive() {
			s.Wins++
			gp = gp.Add(g)
			winTicks += t.TickQty
			winQty += t.Qty
		} else {
			s.Losses++
			gl = gl.Add(g.Neg())
			lossTicks += -t.TickQty
			lossQty += t.Qty
		}
		fees = fees.Add(t.Fees)
		net = net.Add(t.Net())
		units += t.Qty
		cum = cum.Add(t.Net())
		if cum.GreaterThan(peak) {
			peak = cum
		}
		if dd := peak.Sub(cum); dd.GreaterThan(maxDD) {
			maxDD = dd
		}
	}
	if s.Trades > 0 {
		s.WinRate = float64(s.Wins) / float64(s.Trades)
	}
	avgWin, avgLoss := decimal.Zero, decimal.Zero
	if s.Wins > 0 {
		s.AvgWinTicks = float64(winTicks) / float64(winQty)
		avgWin = gp.Div(decimal.NewFromInt(int64(s.Wins)))
	}
	if s.Losses > 0 {
		s.AvgLossTicks = float64(lossTicks) / float64(lossQty)
		avgLoss = gl.Div(decimal.NewFromInt(int64(s.Losses)))
	}
	exp := decimal.Zero
	if s.Trades > 0 {
		exp = net.Div(decimal.NewFromInt(int64(s.Trades)))
	}
	// The seed's scaling line: net earned per contract-unit, and for 10 units.
	perUnit := decimal.Zero
	if s.Trades > 0 && units > 0 {
		avgQty := decimal.NewFromInt(units).Div(decimal.NewFromInt(int64(s.Trades)))
		perUnit = net.Div(avgQty)
	}
	s.AvgWin, s.AvgLoss = money(avgWin), money(avgLoss)
	s.GrossProfit, s.GrossLoss, s.Fees, s.Net = money(gp), money(gl), money(fees), money(net)
	s.Expectancy, s.MaxDrawdown = money(exp), money(maxDD)
	s.NetPerUnit, s.NetTenUnits = money(perUnit), money(perUnit.Mul(decimal.NewFromInt(10)))
	s.net = net
	return s
}

func money(d decimal.Decimal) string { return d.StringFixed(2) }

// TextOptions says how WriteText shows times.
type TextOptions struct {
	Zone *time.Location // the zone times are shown in, labelled; nil = UTC
}

// WriteText prints the report as tables: per account, per account and
// strategy, per strategy across the desk, the desk; then the corrections.
func (r *Report) WriteText(w io.Writer, opt TextOptions) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SCOPE\tACCOUNT\tSTRATEGY\tTRADES\tCONTRACTS\tWINS\tLOSSES\tWIN%\tAVG WIN t\tAVG LOSS t\tGROSS +\tGROSS −\tFEES\tNET\tEXPECT\tMAX DD\t")
	row := func(s Stats) {
		acct := s.Account
		if s.Scope == "strategy" && acct == "" {
			acct = "(desk)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Scope, acct, s.Strategy,
			s.Trades, s.Contracts, s.Wins, s.Losses, s.WinRate*100, s.AvgWinTicks, s.AvgLossTicks, s.GrossProfit, s.GrossLoss, s.Fees, s.Net, s.Expectancy, s.MaxDrawdown)
	}
	for _, s := range r.Accounts {
		row(s)
	}
	for _, s := range r.Strategies {
		row(s)
	}
	for _, s := range r.StrategyTotals {
		row(s)
	}
	row(r.Desk)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nScaling: net $%s per unit over %d trades; at 10 units $%s.\n", r.Desk.NetPerUnit, r.Desk.Trades, r.Desk.NetTenUnits)
	if r.Derived {
		fmt.Fprintln(w, "Note: trades come from bars expanded into a trade path (derived), not from tick data.")
	}
	if len(r.Corrections) > 0 {
		loc := opt.Zone
		if loc == nil {
			loc = time.UTC
		}
		fmt.Fprintf(w, "\nCorrections (reconciliations that changed a position; not trades, in no figure above):\n")
		ct := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		// The zone labelled as the console labels it: abbreviation, name.
		label := time.Unix(0, r.Corrections[0].Time).In(loc).Format("MST") + ", " + loc.String()
		fmt.Fprintf(ct, "SEQ\tTIME (%s)\tACCOUNT\tBOOKS\tVENUE\tQTY\tENTRY\tBOOKED AT\tPNL\tTRIPS ENDED\tWHY\n", label)
		for _, c := range r.Corrections {
			at, pnl := "none", "unknown"
			if c.Price > 0 {
				at, pnl = fmt.Sprintf("%.2f", c.Price), c.PnL
			}
			fmt.Fprintf(ct, "%d\t%s\t%s\t%d\t%d\t%d\t%.2f\t%s\t%s\t%d\t%s\n", c.Seq, time.Unix(0, c.Time).In(loc).Format("2006-01-02 15:04:05 MST"),
				c.Account, c.Books, c.Venue, c.Qty, c.Entry, at, pnl, c.Trips, c.Why)
		}
		err = ct.Flush()
	}
	return err
}
