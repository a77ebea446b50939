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
