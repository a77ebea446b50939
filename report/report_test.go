package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestSeedUnitEconomicsExact(t *testing.T) {
	f, err := os.Open("testdata/seed.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	trips, err := ReadTripsCSV(f, "seed.csv")
	if err != nil {
		t.Fatal(err)
	}
	r := Build(trips)
	d := r.Desk
	want := Stats{Trades: 20, Wins: 12, Losses: 8, GrossProfit: "120.00", GrossLoss: "50.00", Fees: "24.00", Net: "46.00",
		Expectancy: "2.30", AvgWin: "10.00", AvgLoss: "6.25", NetPerUnit: "46.00", NetTenUnits: "460.00"}
	if d.Trades != want.Trades || d.Wins != want.Wins || d.Losses != want.Losses || d.GrossProfit != want.GrossProfit ||
		d.GrossLoss != want.GrossLoss || d.Fees != want.Fees || d.Net != want.Net || d.Expectancy != want.Expectancy ||
		d.AvgWin != want.AvgWin || d.AvgLoss != want.AvgLoss || d.NetPerUnit != want.NetPerUnit || d.NetTenUnits != want.NetTenUnits {
		t.Fatalf("desk stats\n got %+v\nwant %+v", d, want)
	}
	if d.WinRate != 0.6 || d.AvgWinTicks != 8 || d.AvgLossTicks != 5 {
		t.Fatalf("rates %v %v %v", d.WinRate, d.AvgWinTicks, d.AvgLossTicks)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Desk map[string]any `json:"desk"`
	}
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"trades", "wins", "losses", "win_rate", "avg_win_ticks", "avg_loss_ticks", "gross_profit", "gross_loss", "fees", "net", "expectancy"} {
		if _, ok := m.Desk[k]; !ok {
			t.Errorf("JSON lacks key %q", k)
		}
	}
	if m.Desk["net"] != "46.00" {
		t.Errorf("JSON net %v", m.Desk["net"])
	}
}

func TestHandComputedCases(t *testing.T) {
	csv := "account,strategy,side,qty,entry,exit,fees\n" +
		"A,orb,short,3,5000.00,4998.00,1.00\n" + // +8 ticks × 3 = $30, fees $3
		"A,orb,long,2,5000.00,4999.25,\n" + // −3 ticks × 2 = −$7.50, fees 2 × 1.20
		"B,delta,long,5,5010.25,5012.25,0\n" // +8 × 5 = $50, no fees
	trips, err := ReadTripsCSV(strings.NewReader(csv), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	r := Build(trips)
	if r.Desk.Net != "67.10" || r.Desk.GrossProfit != "80.00" || r.Desk.GrossLoss != "7.50" || r.Desk.Fees != "5.40" {
		t.Fatalf("desk %+v", r.Desk)
	}
	if len(r.Accounts) != 2 || r.Accounts[0].Net != "17.10" || r.Accounts[0].MaxDrawdown != "9.90" {
		t.Fatalf("account A %+v", r.Accounts[0])
	}
	if len(r.Strategies) != 2 || r.Strategies[1].Strategy != "delta" || r.Strategies[1].Net != "50.00" {
		t.Fatalf("strategies %+v", r.Strategies)
	}
}

func TestBadCSV(t *testing.T) {
	cases := []struct{ name, in, col string }{
		{"empty", "", ""},
		{"no header column", "account,strategy,side,qty,entry\n", ""},
		{"bad side", "account,strategy,side,qty,entry,exit\nA,x,sideways,1,5000,5001\n", "side"},
		{"zero qty", "account,strategy,side,qty,entry,exit\nA,x,long,0,5000,5001\n", "qty"},
		{"off tick", "account,strategy,side,qty,entry,exit\nA,x,long,1,5000.10,5001\n", "entry"},
		{"bad fees", "account,strategy,side,qty,entry,exit,fees\nA,x,long,1,5000,5001,-1\n", "fees"},
		{"quote", "account,strategy,side,qty,entry,exit\nA,\"x,long,1,5000,5001\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadTripsCSV(strings.NewReader(c.in), "bad.csv")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.Column != c.col || !strings.Contains(err.Error(), "bad.csv:") {
				t.Fatalf("err = %v (column %q, want %q)", err, pe.Column, c.col)
			}
		})
	}
}

func FuzzReadTripsCSV(f *testing.F) {
	b, _ := os.ReadFile("testdata/seed.csv")
	f.Add(string(b))
	f.Add("account,strategy,side,qty,entry,exit,fees\nA,orb,short,3,5000.00,4998.00,1.00\n")
	f.Fuzz(func(t *testing.T, s string) {
		trips, err := ReadTripsCSV(strings.NewReader(s), "fuzz.csv")
		if err != nil {
			return
		}
		r := Build(trips)
		if r.Desk.Trades != len(trips) || r.Desk.Wins+r.Desk.Losses != len(trips) {
			t.Fatalf("counts %+v for %d trips", r.Desk, len(trips))
		}
	})
}

func TestHTMLSelfContained(t *testing.T) {
	b, _ := os.ReadFile("testdata/seed.csv")
	trips, err := ReadTripsCSV(bytes.NewReader(b), "seed.csv")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := Build(trips)
	if err := r.WriteHTML(&out, HTMLOptions{StartEquity: nil}); err != nil {
		t.Fatal(err)
	}
	html := out.String()
	for _, want := range []string{"<svg", `class="lockout"`, `class="equity"`, `data-account="SEED"`, `id="desk-net">46.00<`, "8 ticks: 12 trades", "-5 ticks: 8 trades"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "<script"} {
		if strings.Contains(html, bad) {
			t.Errorf("page is not self-contained: contains %q", bad)
		}
	}
}
