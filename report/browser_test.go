package report_test

// browser_test.go: the HTML report rendered in real headless Chromium
// (chromedp, the console's browser helper): per account an equity curve
// whose polyline has one point per round trip plus the start, a lockout
// line drawn inside the chart, the outcome histogram, the desk's net cell,
// and no request for anything but the page itself. Without Chromium the
// test is skipped with a message, unless $CI is set (then it fails).

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/console/consoletest"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/report"
)

type rendered struct {
	Accounts  []string  `json:"accounts"`
	Points    []int     `json:"points"`    // equity polyline points per account
	Lockouts  []float64 `json:"lockouts"`  // y of each lockout line
	Heights   []float64 `json:"heights"`   // rendered height of each curve's SVG
	Bars      int       `json:"bars"`      // histogram bars
	DeskNet   string    `json:"desk_net"`  // the desk net cell
	Resources int       `json:"resources"` // requests beyond the page
	Breached  []bool    `json:"breached"`
}

const inspect = `(() => {
  const accts = [...document.querySelectorAll('.account')];
  return {
    accounts: accts.map(a => a.dataset.account),
    points: accts.map(a => a.querySelector('polyline.equity').points.numberOfItems),
    lockouts: accts.map(a => a.querySelector('line.lockout').y1.baseVal.value),
    heights: accts.map(a => a.querySelector('svg.curve').getBoundingClientRect().height),
    bars: document.querySelectorAll('svg.hist rect').length,
    desk_net: document.getElementById('desk-net').textContent.trim(),
    resources: performance.getEntriesByType('resource').length,
    breached: accts.map(a => !!a.querySelector('.breach')),
  };
})()`

func renderInChromium(t *testing.T, r *report.Report, opt report.HTMLOptions) rendered {
	t.Helper()
	ctx := consoletest.NewBrowser(t) // skips (or fails under CI) without Chromium
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(f, opt); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.ID("desk-net"))); err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[rendered](inspect))
	if err != nil {
		t.Fatalf("inspect the page: %v", err)
	}
	if d := os.Getenv("DESKGUARD_ARTIFACTS"); d != "" {
		if b, err := chromedp.Run(tctx, chromedp.FullScreenshot(90)); err == nil {
			_ = os.WriteFile(filepath.Join(d, "report-"+strings.ReplaceAll(t.Name(), "/", "_")+".jpg"), b, 0o644)
		}
	}
	return got
}

func TestHTMLRendersInChromium(t *testing.T) {
	f, err := os.Open("testdata/seed.csv")
	if err != nil {
		t.Fatal(err)
	}
	trips, err := report.ReadTripsCSV(f, "seed.csv")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A second account that breaches its line: 3 losses of 40 ticks × 5
	// contracts from $2,000 (line $1,970).
	csv := "account,strategy,side,qty,entry,exit\n" +
		"B2,delta,short,5,5000.00,5010.00\nB2,delta,short,5,5000.00,5010.00\nB2,delta,long,5,5010.00,5000.00\n"
	more, err := report.ReadTripsCSV(strings.NewReader(csv), "b2.csv")
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]report.Trip(nil), trips...), more...)
	seedOnly := report.Build(trips)
	got := renderInChromium(t, seedOnly, report.HTMLOptions{StartEquity: map[string]decimal.Decimal{"SEED": decimal.NewFromInt(50000)}})
	if len(got.Accounts) != 1 || got.Accounts[0] != "SEED" || got.Points[0] != len(trips)+1 {
		t.Fatalf("seed page: %+v (want one curve of %d points)", got, len(trips)+1)
	}
	if got.DeskNet != "46.00" {
		t.Errorf("desk net cell %q, want 46.00", got.DeskNet)
	}
	if got.Bars != 2 || got.Resources != 0 || got.Heights[0] <= 0 || got.Lockouts[0] <= 0 || got.Lockouts[0] >= 220 || got.Breached[0] {
		t.Errorf("seed page: %+v", got)
	}

	both := report.Build(all)
	got = renderInChromium(t, both, report.HTMLOptions{StartEquity: map[string]decimal.Decimal{
		"SEED": decimal.NewFromInt(50000), "B2": decimal.NewFromInt(2000)}})
	if strings.Join(got.Accounts, ",") != "B2,SEED" || got.Points[0] != len(more)+1 || got.Points[1] != len(trips)+1 {
		t.Fatalf("two accounts: %+v", got)
	}
	if !got.Breached[0] || got.Breached[1] {
		t.Errorf("breach marks %v, want B2 only", got.Breached)
	}
	if want := both.Desk.Net; got.DeskNet != want || want != "-722.00" { // 46.00 − 3 × ($250 + $6.00 fees)
		t.Errorf("desk net cell %q, report %q", got.DeskNet, want)
	}
}

// A timed session of two accounts with a kill, a lockout and a correction:
// the desk curve has a point per trip and a marker per event at its time,
// the accounts share one scale, the axes are labelled in the zone, the
// strategy totals and the correction row are there.
func TestHTMLDeskCurveMarkersCommonScale(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	at := func(hm string) int64 {
		tt, _ := time.ParseInLocation("2006-01-02 15:04", "2024-03-12 "+hm, ny)
		return tt.UnixNano()
	}
	b := report.NewBook(nil)
	add := func(acct, id string, side market.Side, qty int64, px, hm string) {
		if err := b.Fill(report.Fill{Account: acct, Strategy: map[string]string{"A": "orb", "B": "delta"}[acct], ClientID: id, Side: side,
			Qty: qty, Price: market.MustPrice(px), Time: at(hm)}); err != nil {
			t.Fatal(err)
		}
	}
	add("A", "A.1", market.Buy, 2, "5000.00", "10:01")
	add("A", "A.1.target", market.Sell, 2, "5002.00", "10:20")
	add("B", "B.1", market.Sell, 5, "5010.00", "10:30")
	add("B", "B.1.stop", market.Buy, 5, "5030.00", "11:00") // −80 ticks × 5: $500, B's line
	add("A", "A.2", market.Sell, 1, "5001.00", "11:30")
	b.Reconcile(99, at("12:00"), "A", 0, 0, "position: journal -1, venue 0")
	r := report.Build(b.Trips())
	r.Corrections = b.Corrections()
	opt := report.HTMLOptions{Session: "2024-03-12", Zone: ny,
		StartEquity: map[string]decimal.Decimal{"A": decimal.NewFromInt(50000), "B": decimal.NewFromInt(30000)},
		Markers:     []report.Marker{{Time: at("11:00"), Kind: "lockout", Account: "B"}, {Time: at("11:05"), Kind: "kill", Label: "console"}}}
	ctx := consoletest.NewBrowser(t)
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(f, opt); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.ID("desk-net"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tctx, chromedp.Evaluate[struct {
		DeskPoints  int      `json:"deskPoints"`
		Markers     []string `json:"markers"`
		MarkerX     []float64
		Session     string   `json:"session"`
		AxisTitles  []string `json:"axisTitles"`
		AcctLockY   []float64
		Totals      []string `json:"totals"`
		Corrections []string `json:"corrections"`
		Resources   int      `json:"resources"`
	}](`(() => ({
		deskPoints: document.querySelector('#desk-curve polyline.equity').points.numberOfItems,
		markers: [...document.querySelectorAll('#desk-curve line.marker')].map(l => l.dataset.marker),
		markerx: [...document.querySelectorAll('#desk-curve line.marker')].map(l => l.x1.baseVal.value),
		session: document.getElementById('session').textContent,
		axisTitles: [...document.querySelectorAll('#desk-curve .axis-title')].map(t => t.textContent),
		acctlocky: [...document.querySelectorAll('.account line.lockout')].map(l => l.y1.baseVal.value),
		totals: [...document.querySelectorAll('tr.strategy-total')].map(tr => tr.dataset.strategy),
		corrections: [...document.querySelectorAll('#corrections tr.correction')].map(tr => tr.dataset.account),
		resources: performance.getEntriesByType('resource').length,
	}))()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.DeskPoints != 2+1 || // two trips (A.2 went in the correction) and the start
		got.Session != "2024-03-12" || got.Resources != 0 {
		t.Errorf("desk curve %d points (want 4), session %q, resources %d", got.DeskPoints, got.Session, got.Resources)
	}
	if len(got.Markers) != 2 || got.Markers[0] != "lockout" || got.Markers[1] != "kill" || !(got.MarkerX[0] < got.MarkerX[1]) {
		t.Errorf("markers %v at %v", got.Markers, got.MarkerX)
	}
	if len(got.AxisTitles) != 2 || !strings.Contains(got.AxisTitles[0], "EDT") || !strings.Contains(got.AxisTitles[0], "America/New_York") || !strings.Contains(got.AxisTitles[1], "$") {
		t.Errorf("axis titles %q", got.AxisTitles)
	}
	// One scale: B's line (−$450 of $30,000) is above A's (−$750 of
	// $50,000) on the page, as on a common dollar axis it must be.
	if len(got.AcctLockY) != 2 || !(got.AcctLockY[1] < got.AcctLockY[0]) {
		t.Errorf("account lockout lines at y %v: not one scale", got.AcctLockY)
	}
	if strings.Join(got.Totals, ",") != "delta,orb" || strings.Join(got.Corrections, ",") != "A" {
		t.Errorf("strategy totals %v, corrections %v", got.Totals, got.Corrections)
	}
	if d := os.Getenv("DESKGUARD_ARTIFACTS"); d != "" {
		if b, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)); err == nil { // 100: PNG
			_ = os.WriteFile(filepath.Join(d, "report-desk-curve.png"), b, 0o644)
		}
	}
}
