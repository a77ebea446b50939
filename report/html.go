package report

// html.go: one self-contained page (inline SVG and CSS, no script, no
// network): the session; the desk's equity over time against the desk
// lockout line, with the kills and lockouts marked where they happened;
// every account's net on one common scale (same time axis, same dollars)
// against its own lockout line; the distribution of trade outcomes in
// ticks; the tables (per account, per account and strategy, per strategy
// across the desk, the desk) and the corrections.

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// HTMLOptions gives what the trips alone do not know.
type HTMLOptions struct {
	Title       string
	Session     string                     // the session date(s) the report covers, e.g. "2024-03-12"
	StartEquity map[string]decimal.Decimal // per account; missing = $50,000 (the default)
	DrawdownPct decimal.Decimal            // lockout line: start × (1 − pct/100); zero = 1.5
	// DeskDrawdownPct is the desk's line on the sum of the accounts; zero
	// = DrawdownPct.
	DeskDrawdownPct decimal.Decimal
	Markers         []Marker       // kills and lockouts, drawn where they happened
	Zone            *time.Location // times are shown in this zone, labelled; nil = UTC
	Generated       time.Time      // when the page was made (zero: not said)
}

// Marker is an event drawn on the desk's equity curve.
type Marker struct {
	Time    int64  // ns UTC
	Kind    string // "kill" or "lockout"
	Account string // "" for the desk
	Label   string // e.g. the kill's trigger
}

var defaultStart = decimal.NewFromInt(50000)

type svgCurve struct {
	Account  string
	Path     template.HTML // the SVG
	Start    string
	Final    string
	Lockout  string
	Breached bool
}

// series is one equity path: the start, then a point at each trip's exit.
type series struct {
	t []float64 // x: ns, or trade index when the trips carry no times
	v []float64 // y: dollars
}

// WriteHTML writes the report page.
func (r *Report) WriteHTML(w io.Writer, opt HTMLOptions) error {
	if opt.Title == "" {
		opt.Title = "deskguard report"
	}
	loc := opt.Zone
	if loc == nil {
		loc = time.UTC
	}
	pct := opt.DrawdownPct
	if pct.IsZero() {
		pct = decimal.RequireFromString("1.5")
	}
	deskPct := opt.DeskDrawdownPct
	if deskPct.IsZero() {
		deskPct = pct
	}
	hundred := decimal.NewFromInt(100)
	trips := append([]Trip(nil), r.Trips...)
	sort.SliceStable(trips, func(i, j int) bool { return trips[i].ExitTime < trips[j].ExitTime })
	timed := len(trips) > 0
	for _, t := range trips {
		timed = timed && t.ExitTime > 1e15 // market times, not CSV order
	}
	x := func(i int, t Trip) float64 {
		if timed {
			return float64(t.ExitTime)
		}
		return float64(i + 1)
	}
	t0 := 0.0
	if timed {
		t0 = float64(trips[0].EntryTime)
		if t0 <= 0 || t0 > float64(trips[0].ExitTime) {
			t0 = float64(trips[0].ExitTime)
		}
		for _, m := range opt.Markers {
			t0 = math.Min(t0, float64(m.Time))
		}
	}

	// Accounts: net from the start on one scale, each with its own line.
	accts := map[string]bool{}
	for _, t := range trips {
		accts[t.Account] = true
	}
	var ids []string
	for a := range accts {
		ids = append(ids, a)
	}
	sort.Strings(ids)
	start := func(a string) decimal.Decimal {
		if s, ok := opt.StartEquity[a]; ok && s.IsPositive() {
			return s
		}
		return defaultStart
	}
	per := map[string]*series{}
	cum := map[string]decimal.Decimal{}
	for _, a := range ids {
		per[a] = &series{t: []float64{t0}, v: []float64{0}}
	}
	desk := &series{t: []float64{t0}}
	deskStart := decimal.Zero
	for _, a := range ids {
		deskStart = deskStart.Add(start(a))
	}
	deskCum := decimal.Zero
	desk.v = []float64{f64(deskStart)}
	for i, t := range trips {
		cum[t.Account] = cum[t.Account].Add(t.Net())
		s := per[t.Account]
		s.t = append(s.t, x(i, t))
		s.v = append(s.v, f64(cum[t.Account]))
		deskCum = deskCum.Add(t.Net())
		desk.t = append(desk.t, x(i, t))
		desk.v = append(desk.v, f64(deskStart.Add(deskCum)))
	}
	t1 := t0 + 1
	if n := len(desk.t); n > 0 {
		t1 = math.Max(desk.t[n-1], t0+1)
	}
	for _, m := range opt.Markers {
		t1 = math.Max(t1, float64(m.Time))
	}
	if timed {
		t1 += (t1 - t0) * 0.04 // room for the last point's marker and label
	}
	// The common scale: every account's path and every account's line.
	lo, hi := 0.0, 0.0
	var curves []svgCurve
	for _, a := range ids {
		line := start(a).Mul(pct).Div(hundred).Neg()
		lo = math.Min(lo, f64(line))
		for _, v := range per[a].v {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	xa := axis{t0: t0, t1: t1, timed: timed, loc: loc}
	for _, a := range ids {
		line := start(a).Mul(pct).Div(hundred).Neg()
		curves = append(curves, svgCurve{Account: a, Path: template.HTML(curveSVG(per[a], f64(line), lo, hi, xa, "net from start, $", nil)),
			Start: money(start(a)), Final: money(start(a).Add(cum[a])), Lockout: money(start(a).Add(line)),
			Breached: cum[a].LessThanOrEqual(line)})
	}
	deskLine := deskStart.Mul(decimal.NewFromInt(1).Sub(deskPct.Div(hundred)))
	dlo, dhi := f64(deskLine), f64(deskStart)
	for _, v := range desk.v {
		dlo, dhi = math.Min(dlo, v), math.Max(dhi, v)
	}
	var deskSVG template.HTML
	if len(ids) > 0 {
		deskSVG = template.HTML(curveSVG(desk, f64(deskLine), dlo, dhi, xa, "desk equity, $", opt.Markers))
	}
	var corr []corrRow
	for _, c := range r.Corrections {
		cr := corrRow{Correction: c, At: time.Unix(0, c.Time).In(loc).Format("15:04:05 MST"), BookedAt: "none", PnLText: "unknown (no price)"}
		if c.Price > 0 {
			cr.BookedAt, cr.PnLText = fmt.Sprintf("%.2f", c.Price), c.PnL
		}
		corr = append(corr, cr)
	}
	gen := ""
	if !opt.Generated.IsZero() {
		gen = opt.Generated.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	data := struct {
		Title, Session, Generated, Zone string
		Desk                            Stats
		DeskSVG                         template.HTML
		DeskStart, DeskLine, DeskFinal  string
		Curves                          []svgCurve
		Hist                            template.HTML
		Rows, Totals                    []Stats
		Corrections                     []corrRow
		Markers                         int
		Derived                         bool
	}{opt.Title, opt.Session, gen, loc.String(), r.Desk, deskSVG, money(deskStart), money(deskLine), money(deskStart.Add(deskCum)),
		curves, template.HTML(histSVG(r.Trips)), append(append([]Stats(nil), r.Accounts...), r.Strategies...), r.StrategyTotals,
		corr, len(opt.Markers), r.Derived}
	return page.Execute(w, data)
}

type corrRow struct {
	Correction
	At, BookedAt, PnLText string
}

func f64(d decimal.Decimal) float64 { f, _ := d.Float64(); return f }

// axis is the x axis shared by every chart on the page.
type axis struct {
	t0, t1 float64
	timed  bool
	loc    *time.Location
}

func (a axis) label(v float64) string {
	if !a.timed {
		return fmt.Sprintf("%.0f", v)
	}
	return time.Unix(0, int64(v)).In(a.loc).Format("15:04")
}

func (a axis) title() string {
	if !a.timed {
		return "round trip (in file order)"
	}
	return "time (" + time.Unix(0, int64(a.t0)).In(a.loc).Format("MST") + ", " + a.loc.String() + ")"
}

// curveSVG draws an equity path over the shared x axis and the y range
// [lo, hi] with a dashed lockout line, axis labels and ticks, and markers
// (vertical lines) where kills and lockouts happened.
func curveSVG(s *series, line, lo, hi float64, xa axis, ytitle string, marks []Marker) string {
	const W, H = 760.0, 260.0
	const L, R, T, B = 78.0, 14.0, 14.0, 44.0
	if hi-lo < 1 {
		hi, lo = hi+1, lo-1
	}
	span := hi - lo
	lo, hi = lo-span*0.06, hi+span*0.06
	X := func(v float64) float64 { return L + (v-xa.t0)/(xa.t1-xa.t0)*(W-L-R) }
	Y := func(v float64) float64 { return T + (hi-v)/(hi-lo)*(H-T-B) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="curve" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img">`, W, H, W, H)
	// Axes, ticks and titles.
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, L, H-B, W-R, H-B)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, L, T, L, H-B)
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<text class="lbl" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, L-4, Y(v)+4, dollars(v))
		xv := xa.t0 + (xa.t1-xa.t0)*float64(i)/4
		fmt.Fprintf(&b, `<text class="lbl" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, X(xv), H-B+14, xa.label(xv))
	}
	fmt.Fprintf(&b, `<text class="axis-title" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (L+W-R)/2, H-6, template.HTMLEscapeString(xa.title()))
	fmt.Fprintf(&b, `<text class="axis-title" x="12" y="%.1f" transform="rotate(-90 12 %.1f)" text-anchor="middle">%s</text>`, (T+H-B)/2, (T+H-B)/2, template.HTMLEscapeString(ytitle))
	// The lockout line.
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="lockout"/>`, L, Y(line), W-R, Y(line))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="lbl lockout-lbl" text-anchor="end">lockout %s</text>`, W-R-4, Y(line)-4, dollars(line))
	// Markers.
	for i, m := range marks {
		if !xa.timed {
			break
		}
		mx := X(float64(m.Time))
		who := m.Account
		if who == "" {
			who = "desk"
		}
		fmt.Fprintf(&b, `<line class="marker %s" data-marker="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"><title>%s %s %s at %s</title></line>`,
			m.Kind, m.Kind, mx, T, mx, H-B, m.Kind, template.HTMLEscapeString(who), template.HTMLEscapeString(m.Label),
			time.Unix(0, m.Time).In(xa.loc).Format("15:04:05 MST"))
		fmt.Fprintf(&b, `<text class="lbl marker-lbl %s" x="%.1f" y="%.1f" text-anchor="end">%s %s</text>`, m.Kind, mx-3, T+10+float64(i%4)*12,
			m.Kind, template.HTMLEscapeString(who))
	}
	b.WriteString(`<polyline class="equity" points="`)
	for i := range s.v {
		fmt.Fprintf(&b, "%.1f,%.1f ", X(s.t[i]), Y(s.v[i]))
	}
	b.WriteString(`"/></svg>`)
	return b.String()
}

// dollars is a compact axis label.
func dollars(v float64) string {
	sign := ""
	if v < 0 {
		sign, v = "−", -v
	}
	if v >= 10000 {
		return fmt.Sprintf("%s$%.1fk", sign, v/1000)
	}
	return fmt.Sprintf("%s$%.0f", sign, v)
}

// histSVG draws the distribution of trade outcomes in ticks per contract
// (rounded to a whole tick).
func histSVG(trips []Trip) string {
	if len(trips) == 0 {
		return `<p>No round trips.</p>`
	}
	key := func(t Trip) int64 { return int64(math.Round(t.Ticks())) }
	counts := map[int64]int{}
	lo, hi := key(trips[0]), key(trips[0])
	maxC := 0
	for _, t := range trips {
		k := key(t)
		counts[k]++
		lo, hi = min(lo, k), max(hi, k)
		maxC = max(maxC, counts[k])
	}
	const W, H, pad = 640.0, 200.0, 30.0
	n := float64(hi - lo + 1)
	bw := (W - 2*pad) / n
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="hist" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img">`, W, H, W, H)
	for k := lo; k <= hi; k++ {
		c := counts[k]
		if c == 0 {
			continue
		}
		h := float64(c) / float64(maxC) * (H - 2*pad)
		cls := "win"
		if k <= 0 {
			cls = "loss"
		}
		xx := pad + float64(k-lo)*bw
		fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d ticks: %d trades</title></rect>`,
			cls, xx+1, H-pad-h, max(bw-2, 1), h, k, c)
		fmt.Fprintf(&b, `<text class="lbl" x="%.1f" y="%.1f">%d</text>`, xx+bw/2-6, H-pad+14, k)
		fmt.Fprintf(&b, `<text class="lbl" x="%.1f" y="%.1f">%d</text>`, xx+bw/2-4, H-pad-h-3, c)
	}
	fmt.Fprintf(&b, `<text class="axis-title" x="%.1f" y="%.1f" text-anchor="middle">ticks per contract</text>`, W/2, H-4)
	b.WriteString(`</svg>`)
	return b.String()
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(f float64) float64 { return f * 100 },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2em;color:#111;background:#fafafa}
h1{font-size:1.6em}h2{margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}
svg{background:#fff;border:1px solid #ccc;margin:.3em 0}
.equity{fill:none;stroke:#1565c0;stroke-width:2}.lockout{stroke:#c62828;stroke-width:1.5;stroke-dasharray:6 4}
.axis{stroke:#888;stroke-width:1}.axis-title{font-size:12px;fill:#333}
.marker{stroke-width:1.5}.marker.kill{stroke:#6a1b9a}.marker.lockout{stroke:#ef6c00;stroke-dasharray:3 3}
.marker-lbl.kill{fill:#6a1b9a}.marker-lbl.lockout{fill:#ef6c00}.lockout-lbl{fill:#c62828}
.lbl{font-size:11px;fill:#444}.win{fill:#2e7d32}.loss{fill:#c62828}.breach{color:#c62828;font-weight:bold}
.note{color:#8a6d3b}.accounts{display:flex;flex-wrap:wrap;gap:1em}
tr.correction td{background:#fff3e0}
</style></head><body>
<h1>{{.Title}}</h1>
<p>{{if .Session}}Session <b id="session">{{.Session}}</b>. {{end}}Times in {{.Zone}}.{{if .Generated}} Generated {{.Generated}}.{{end}}
Desk: {{.Desk.Trades}} round trips ({{.Desk.Contracts}} contracts), net ${{.Desk.Net}}, expectancy ${{.Desk.Expectancy}} per trade.</p>
{{if .Derived}}<p class="note">Trades were derived from one-minute bars (expanded into a trade path), not tick data.</p>{{end}}
{{if .DeskSVG}}<h2>Desk equity</h2>
<div id="desk-curve"><p>start {{.DeskStart}} → {{.DeskFinal}}; desk lockout line {{.DeskLine}}; {{.Markers}} kills and lockouts marked.</p>
{{.DeskSVG}}</div>{{end}}
<h2>Accounts, on one scale</h2>
<div class="accounts">{{range .Curves}}<div class="account" data-account="{{.Account}}"><h3>{{.Account}}</h3>
<p>start {{.Start}} → {{.Final}}; lockout line {{.Lockout}}{{if .Breached}} <span class="breach">BREACHED</span>{{end}}</p>
{{.Path}}</div>{{end}}</div>
<h2>Trade outcomes (ticks per contract)</h2>
{{.Hist}}
<h2>Unit economics</h2>
<p>A round trip is an entry and all its exits, whatever the fill fragments; contracts are counted apart.</p>
<table><tr><th>scope</th><th>account</th><th>strategy</th><th>trades</th><th>contracts</th><th>wins</th><th>losses</th><th>win rate</th>
<th>avg win (ticks)</th><th>avg loss (ticks)</th><th>avg win</th><th>avg loss</th><th>gross profit</th><th>gross loss</th><th>fees</th><th>net</th><th>expectancy</th><th>max drawdown</th></tr>
{{range .Rows}}<tr><td>{{.Scope}}</td><td>{{.Account}}</td><td>{{.Strategy}}</td><td>{{.Trades}}</td><td>{{.Contracts}}</td><td>{{.Wins}}</td><td>{{.Losses}}</td><td>{{printf "%.1f%%" (pct .WinRate)}}</td>
<td>{{printf "%.2f" .AvgWinTicks}}</td><td>{{printf "%.2f" .AvgLossTicks}}</td><td>{{.AvgWin}}</td><td>{{.AvgLoss}}</td><td>{{.GrossProfit}}</td><td>{{.GrossLoss}}</td><td>{{.Fees}}</td><td>{{.Net}}</td><td>{{.Expectancy}}</td><td>{{.MaxDrawdown}}</td></tr>{{end}}
{{range .Totals}}<tr class="strategy-total" data-strategy="{{.Strategy}}"><td>strategy</td><td>(desk)</td><td>{{.Strategy}}</td><td>{{.Trades}}</td><td>{{.Contracts}}</td><td>{{.Wins}}</td><td>{{.Losses}}</td><td>{{printf "%.1f%%" (pct .WinRate)}}</td>
<td>{{printf "%.2f" .AvgWinTicks}}</td><td>{{printf "%.2f" .AvgLossTicks}}</td><td>{{.AvgWin}}</td><td>{{.AvgLoss}}</td><td>{{.GrossProfit}}</td><td>{{.GrossLoss}}</td><td>{{.Fees}}</td><td>{{.Net}}</td><td>{{.Expectancy}}</td><td>{{.MaxDrawdown}}</td></tr>{{end}}
{{with .Desk}}<tr><th>desk</th><th></th><th></th><th>{{.Trades}}</th><th>{{.Contracts}}</th><th>{{.Wins}}</th><th>{{.Losses}}</th><th>{{printf "%.1f%%" (pct .WinRate)}}</th>
<th>{{printf "%.2f" .AvgWinTicks}}</th><th>{{printf "%.2f" .AvgLossTicks}}</th><th>{{.AvgWin}}</th><th>{{.AvgLoss}}</th><th>{{.GrossProfit}}</th><th>{{.GrossLoss}}</th><th>{{.Fees}}</th><th id="desk-net">{{.Net}}</th><th>{{.Expectancy}}</th><th>{{.MaxDrawdown}}</th></tr>{{end}}
</table>
<p>Scaling (the seed's line): net ${{.Desk.NetPerUnit}} per unit; at 10 units ${{.Desk.NetTenUnits}}.</p>
{{if .Corrections}}<h2>Corrections</h2>
<p>Reconciliations that found the venue's position different from the books. They are not trades and are in no figure above.</p>
<table id="corrections"><tr><th>seq</th><th>time</th><th>account</th><th>books</th><th>venue</th><th>contracts</th><th>entry</th><th>booked at</th><th>PnL</th><th>trips ended</th><th>why</th></tr>
{{range .Corrections}}<tr class="correction" data-account="{{.Account}}"><td>{{.Seq}}</td><td>{{.At}}</td><td>{{.Account}}</td><td>{{.Books}}</td><td>{{.Venue}}</td><td>{{.Qty}}</td><td>{{printf "%.2f" .Entry}}</td><td>{{.BookedAt}}</td><td>{{.PnLText}}</td><td>{{.Trips}}</td><td>{{.Why}}</td></tr>{{end}}
</table>{{end}}
</body></html>
`))
