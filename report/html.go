package report

// html.go: one self-contained page (inline SVG and CSS, no script, no
// network): per account, the equity curve against the lockout line; the
// distribution of trade outcomes in ticks; and the tables.

import (
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// HTMLOptions gives what the trips alone do not know.
type HTMLOptions struct {
	Title       string
	StartEquity map[string]decimal.Decimal // per account; missing = curve of net PnL from 0
	DrawdownPct decimal.Decimal            // lockout line: start × (1 − pct/100); zero = 1.5
}

type svgCurve struct {
	Account  string
	Path     template.HTML // the SVG elements
	Start    string
	Final    string
	Lockout  string
	Breached bool
}

// WriteHTML writes the report page.
func (r *Report) WriteHTML(w io.Writer, opt HTMLOptions) error {
	if opt.Title == "" {
		opt.Title = "deskguard report"
	}
	pct := opt.DrawdownPct
	if pct.IsZero() {
		pct = decimal.RequireFromString("1.5")
	}
	byAcct := map[string][]Trip{}
	for _, t := range r.Trips {
		byAcct[t.Account] = append(byAcct[t.Account], t)
	}
	var curves []svgCurve
	for _, acct := range sortedKeys(byAcct) {
		trips := append([]Trip(nil), byAcct[acct]...)
		sort.SliceStable(trips, func(i, j int) bool { return trips[i].ExitTime < trips[j].ExitTime })
		start := opt.StartEquity[acct]
		line := start.Mul(decimal.NewFromInt(1).Sub(pct.Div(decimal.NewFromInt(100))))
		if start.IsZero() {
			line = decimal.Zero.Sub(decimal.NewFromInt(50000).Mul(pct.Div(decimal.NewFromInt(100)))) // 1.5% of a $50,000 default
		}
		eq := []float64{f64(start)}
		cum := start
		for _, t := range trips {
			cum = cum.Add(t.Net())
			eq = append(eq, f64(cum))
		}
		curves = append(curves, svgCurve{Account: acct, Path: template.HTML(curveSVG(eq, f64(line))), Start: money(start),
			Final: money(cum), Lockout: money(line), Breached: cum.LessThanOrEqual(line)})
	}
	data := struct {
		Title     string
		Generated string
		Curves    []svgCurve
		Hist      template.HTML
		Rows      []Stats
		Desk      Stats
		Derived   bool
	}{opt.Title, time.Now().UTC().Format(time.RFC3339), curves, template.HTML(histSVG(r.Trips)),
		append(append([]Stats(nil), r.Accounts...), r.Strategies...), r.Desk, r.Derived}
	return page.Execute(w, data)
}

func f64(d decimal.Decimal) float64 { f, _ := d.Float64(); return f }

// curveSVG draws an equity series with a dashed lockout line.
func curveSVG(eq []float64, line float64) string {
	const W, H, pad = 640.0, 220.0, 30.0
	lo, hi := line, line
	for _, v := range eq {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	span := hi - lo
	lo, hi = lo-span*0.05, hi+span*0.05
	x := func(i int) float64 {
		if len(eq) < 2 {
			return pad
		}
		return pad + float64(i)*(W-2*pad)/float64(len(eq)-1)
	}
	y := func(v float64) float64 { return H - pad - (v-lo)/(hi-lo)*(H-2*pad) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="curve" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img">`, W, H, W, H)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="lockout"/>`, pad, y(line), W-pad, y(line))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="lbl">lockout %.2f</text>`, W-pad-120, y(line)-4, line)
	b.WriteString(`<polyline class="equity" points="`)
	for i, v := range eq {
		fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(v))
	}
	b.WriteString(`"/>`)
	fmt.Fprintf(&b, `<text x="4" y="%.1f" class="lbl">%.2f</text><text x="4" y="%.1f" class="lbl">%.2f</text>`, pad, hi, H-pad+12, lo)
	b.WriteString(`</svg>`)
	return b.String()
}

// histSVG draws the distribution of trade outcomes in ticks per contract.
func histSVG(trips []Trip) string {
	if len(trips) == 0 {
		return `<p>No round trips.</p>`
	}
	counts := map[int64]int{}
	lo, hi := trips[0].Ticks(), trips[0].Ticks()
	maxC := 0
	for _, t := range trips {
		k := t.Ticks()
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
.lbl{font-size:11px;fill:#444}.win{fill:#2e7d32}.loss{fill:#c62828}.breach{color:#c62828;font-weight:bold}
.note{color:#8a6d3b}
</style></head><body>
<h1>{{.Title}}</h1>
<p>Generated {{.Generated}}. Desk: {{.Desk.Trades}} round trips, net ${{.Desk.Net}}, expectancy ${{.Desk.Expectancy}} per trade.</p>
{{if .Derived}}<p class="note">Trades were derived from one-minute bars (expanded into a trade path), not tick data.</p>{{end}}
<h2>Equity against the lockout line</h2>
{{range .Curves}}<div class="account" data-account="{{.Account}}"><h3>{{.Account}}</h3>
<p>start {{.Start}} → {{.Final}}; lockout line {{.Lockout}}{{if .Breached}} <span class="breach">BREACHED</span>{{end}}</p>
{{.Path}}</div>{{end}}
<h2>Trade outcomes (ticks per contract)</h2>
{{.Hist}}
<h2>Unit economics</h2>
<table><tr><th>scope</th><th>account</th><th>strategy</th><th>trades</th><th>wins</th><th>losses</th><th>win rate</th>
<th>avg win (ticks)</th><th>avg loss (ticks)</th><th>avg win</th><th>avg loss</th><th>gross profit</th><th>gross loss</th><th>fees</th><th>net</th><th>expectancy</th><th>max drawdown</th></tr>
{{range .Rows}}<tr><td>{{.Scope}}</td><td>{{.Account}}</td><td>{{.Strategy}}</td><td>{{.Trades}}</td><td>{{.Wins}}</td><td>{{.Losses}}</td><td>{{printf "%.1f%%" (pct .WinRate)}}</td>
<td>{{printf "%.2f" .AvgWinTicks}}</td><td>{{printf "%.2f" .AvgLossTicks}}</td><td>{{.AvgWin}}</td><td>{{.AvgLoss}}</td><td>{{.GrossProfit}}</td><td>{{.GrossLoss}}</td><td>{{.Fees}}</td><td>{{.Net}}</td><td>{{.Expectancy}}</td><td>{{.MaxDrawdown}}</td></tr>{{end}}
{{with .Desk}}<tr><th>desk</th><th></th><th></th><th>{{.Trades}}</th><th>{{.Wins}}</th><th>{{.Losses}}</th><th>{{printf "%.1f%%" (pct .WinRate)}}</th>
<th>{{printf "%.2f" .AvgWinTicks}}</th><th>{{printf "%.2f" .AvgLossTicks}}</th><th>{{.AvgWin}}</th><th>{{.AvgLoss}}</th><th>{{.GrossProfit}}</th><th>{{.GrossLoss}}</th><th>{{.Fees}}</th><th id="desk-net">{{.Net}}</th><th>{{.Expectancy}}</th><th>{{.MaxDrawdown}}</th></tr>{{end}}
</table>
<p>Scaling (the seed's line): net ${{.Desk.NetPerUnit}} per unit; at 10 units ${{.Desk.NetTenUnits}}.</p>
</body></html>
`))
