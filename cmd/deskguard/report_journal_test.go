package main

// report_journal_test.go: `deskguard report --db` — round trips rebuilt from
// a journal written by a real replay equal the desk's own round trips; a
// hand-built journal with a crossing fill, a liquidation, a fee rate from a
// snapshot and two sessions gives hand-computed figures, filtered by
// session date; a journal held by a live writer is refused at once with a
// clear message.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/report"
	"github.com/deskguard/deskguard/supervisor"
)

// replayJournal runs the default desk over the default synthetic session
// with a journal, as `deskguard replay --journal` does, and returns the
// journal's path and the desk's own view at the end.
func replayJournal(t *testing.T) (string, *supervisor.Desk, supervisor.Summary) {
	t.Helper()
	c, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	feed, closeFeed, _, _, err := openFeed(c)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFeed()
	path := filepath.Join(t.TempDir(), "replay.journal")
	clock := market.NewReplayClock(time.Unix(0, 0))
	j, err := journal.Open(path, journal.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	specs, ids := specsWithIDs(c)
	venue, err := sim.New(sim.Config{Accounts: ids, Synchronous: true})
	if err != nil {
		t.Fatal(err)
	}
	defer venue.Close()
	lim := c.Limits
	lim.MaxDataAge = 0
	d, err := supervisor.New(supervisor.Options{Clock: clock, Journal: supervisor.JournalOf(j), Broker: venue,
		Limits: lim, DeskDrawdownPct: c.Desk.DrawdownPct, Accounts: specs, Engines: c.Strategies, Schedule: c.Schedule,
		Workers: supervisor.InProcess, ManualUnlock: c.Desk.ManualUnlock})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := supervisor.Replay(context.Background(), d, feed, venue, clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return path, d, sum
}

func TestReportFromReplayJournalMatchesDesk(t *testing.T) {
	path, d, sum := replayJournal(t)
	trips, opt, err := tripsFromJournal(path, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// The oracle for "one round trip per entry": the entries the journal
	// shows filled (an Enter or Add intent whose own order got a fill).
	entries := map[string]map[string]bool{}
	{
		j, err := journal.Open(path, journal.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		isEntry := map[string]string{}
		err = j.Iterate(1, func(r journal.Record) error {
			switch r.Kind {
			case journal.KindIntent:
				if b, err := r.IntentBody(); err == nil && (b.Intent.Kind == intent.Enter || b.Intent.Kind == intent.Add) {
					isEntry[b.Intent.ID] = b.Intent.Account
				}
			case journal.KindBrokerEvent:
				if ev, err := r.BrokerEvent(); err == nil && ev.FillQty > 0 && isEntry[ev.ClientID] != "" {
					if entries[ev.Account] == nil {
						entries[ev.Account] = map[string]bool{}
					}
					entries[ev.Account][ev.ClientID] = true
				}
			}
			return nil
		})
		j.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	byAcct := map[string][]report.Trip{}
	for _, tr := range trips {
		byAcct[tr.Account] = append(byAcct[tr.Account], tr)
	}
	st := d.Status(context.Background())
	total, fragments := 0, 0
	for _, a := range st.Accounts {
		got := byAcct[a.ID]
		total += len(got)
		fragments += len(a.Trades)
		if len(got) != len(entries[a.ID]) {
			t.Errorf("%s: %d round trips from the journal, %d entries filled", a.ID, len(got), len(entries[a.ID]))
		}
		// The same money and contracts as the desk's own books, fragment
		// by fragment summed.
		var dq, gq int64
		dg, df, gg, gf := decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
		for _, w := range a.Trades {
			dq += w.Qty
			dg = dg.Add(decimal.RequireFromString(w.PnL))
			df = df.Add(decimal.RequireFromString(w.Fees))
		}
		for _, g := range got {
			gq += g.Qty
			gg = gg.Add(g.Gross())
			gf = gf.Add(g.Fees)
			if g.Fills < 2 || !entries[a.ID][g.ID] {
				t.Errorf("%s: trip %+v: not an entry with its exits", a.ID, g)
			}
		}
		if dq != gq || !dg.Equal(gg) || !df.Equal(gf) {
			t.Errorf("%s: journal %d contracts gross %s fees %s; desk %d contracts gross %s fees %s", a.ID, gq, gg, gf, dq, dg, df)
		}
		if want, ok := opt.StartEquity[a.ID]; len(got) > 0 && (!ok || want.StringFixed(2) != a.StartEquity) {
			t.Errorf("%s: start equity %v, desk %s", a.ID, want, a.StartEquity)
		}
	}
	if total == 0 {
		t.Fatal("the replay made no round trips: nothing was compared")
	}
	r := report.Build(trips)
	for _, as := range sum.Accounts {
		var rs *report.Stats
		for i := range r.Accounts {
			if r.Accounts[i].Account == as.ID {
				rs = &r.Accounts[i]
			}
		}
		if as.RoundTrips == 0 {
			if rs != nil {
				t.Errorf("%s: report has trips the desk does not", as.ID)
			}
			continue
		}
		if as.Position != 0 {
			t.Fatalf("%s ended the session with a position: the net would differ by its open fee and mark", as.ID)
		}
		if rs == nil || rs.Fees != as.Fees || rs.Net != as.Net {
			t.Errorf("%s: report %+v\ndesk %+v", as.ID, rs, as)
		}
	}
	if r.Desk.Net != sum.Desk.Net {
		t.Errorf("desk net: report %s, desk %s", r.Desk.Net, sum.Desk.Net)
	}
	t.Logf("%d round trips (%d fill fragments in the desk's books, %d contracts), desk net %s", r.Desk.Trades, fragments, r.Desk.Contracts, r.Desk.Net)
}

// handJournal writes two sessions for account A1 (fees $1.00 from a
// snapshot): session 2026-03-10 — buy 2 @ 5150.00 (orb entry), the stop leg
// sells 3 @ 5152.00 (crossing: closes 2 at +8 ticks, opens 1 short), a
// liquidation buys 1 @ 5153.00 (−4 ticks); session 2026-03-11 — a vwapmr
// short 1 @ 5175.00 covered by its target @ 5172.50 (+10 ticks).
func handJournal(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hand.journal")
	day1 := time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC) // 10:30 ET
	day2 := day1.Add(24 * time.Hour)
	j, err := journal.Open(path, journal.Options{Clock: market.NewReplayClock(day1)})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ns := func(at time.Time, sec int) int64 { return at.Add(time.Duration(sec) * time.Second).UnixNano() }
	snap, err := json.Marshal(ledgercheck.LedgerSnapshot{Ledgers: []accounts.LedgerState{{ID: "A1", FeesRTCents: 100, StartCents: 5_000_000}}})
	if err != nil {
		t.Fatal(err)
	}
	snapRec, err := journal.NewSnapshot(ns(day1, 0), snap)
	if err != nil {
		t.Fatal(err)
	}
	px := market.MustPrice
	fill := func(at int64, id string, side market.Side, qty int64, p string) journal.Record {
		return journal.NewBrokerEvent(broker.Event{Time: at, Account: "A1", ClientID: id, Kind: broker.FilledEv, Side: side,
			FillQty: qty, FillPrice: px(p)})
	}
	recs := []journal.Record{
		journal.NewSessionReset(ns(day1, 0), journal.SessionReset{Session: "2026-03-10", Accounts: map[string]string{"A1": "50000.00"}}),
		snapRec,
		journal.NewIntent(intent.Intent{ID: "A1.1", Kind: intent.Enter, Account: "A1", Strategy: "orb", Side: market.Buy, Qty: 2,
			EntryType: market.LimitOrder, Entry: px("5150.00"), Stop: px("5149.00"), Target: px("5152.00")}, &journal.Decision{Allowed: true}),
		fill(ns(day1, 1), "A1.1", market.Buy, 2, "5150.00"),
		fill(ns(day1, 60), "A1.1.stop", market.Sell, 3, "5152.00"),
		fill(ns(day1, 120), "liquidate.A1.7", market.Buy, 1, "5153.00"),
		journal.NewSessionReset(ns(day2, 0), journal.SessionReset{Session: "2026-03-11", Accounts: map[string]string{"A1": "50012.00"}}),
		journal.NewIntent(intent.Intent{ID: "A1.2", Kind: intent.Enter, Account: "A1", Strategy: "vwapmr", Side: market.Sell, Qty: 1,
			EntryType: market.LimitOrder, Entry: px("5175.00"), Stop: px("5176.00"), Target: px("5172.50")}, &journal.Decision{Allowed: true}),
		fill(ns(day2, 1), "A1.2", market.Sell, 1, "5175.00"),
		fill(ns(day2, 30), "A1.2.target", market.Buy, 1, "5172.50"),
	}
	for _, r := range recs {
		if _, err := j.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestReportJournalHandComputed(t *testing.T) {
	path := handJournal(t)
	cases := []struct {
		name, from, to           string
		trades                   int
		gp, gl, fees, net, start string
		strategies               []string // "strategy=net"
	}{
		{"all", "", "", 3, "32.50", "5.00", "4.00", "23.50", "50000.00", []string{"orb=12.00", "vwapmr=11.50"}},
		{"first session", "2026-03-10", "2026-03-10", 2, "20.00", "5.00", "3.00", "12.00", "50000.00", []string{"orb=12.00"}},
		{"from the second", "2026-03-11", "", 1, "12.50", "0.00", "1.00", "11.50", "50012.00", []string{"vwapmr=11.50"}},
		{"empty range", "2026-03-12", "2026-03-13", 0, "0.00", "0.00", "0.00", "0.00", "50012.00", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			trips, opt, err := tripsFromJournal(path, c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			r := report.Build(trips)
			d := r.Desk
			if d.Trades != c.trades || d.GrossProfit != c.gp || d.GrossLoss != c.gl || d.Fees != c.fees || d.Net != c.net {
				t.Fatalf("desk %+v", d)
			}
			if got := opt.StartEquity["A1"]; !got.Equal(decimal.RequireFromString(c.start)) {
				t.Errorf("start equity %s, want %s", got, c.start)
			}
			var strats []string
			for _, s := range r.Strategies {
				strats = append(strats, s.Strategy+"="+s.Net)
			}
			if strings.Join(strats, ",") != strings.Join(c.strategies, ",") {
				t.Errorf("strategies %v, want %v", strats, c.strategies)
			}
		})
	}
	// The crossing fill: two long contracts closed at +8, one short opened
	// by the same fill and closed by the liquidation at −4.
	trips, _, err := tripsFromJournal(path, "2026-03-10", "2026-03-10")
	if err != nil {
		t.Fatal(err)
	}
	if len(trips) != 2 || trips[0].Side != market.Buy || trips[0].Qty != 2 || trips[0].Ticks() != 8 ||
		trips[1].Side != market.Sell || trips[1].Qty != 1 || trips[1].Ticks() != -4 || trips[1].Strategy != "orb" {
		t.Fatalf("crossing fill split as %+v", trips)
	}
}

func TestReportJournalBadInput(t *testing.T) {
	path := handJournal(t)
	for _, c := range []struct{ from, to, want string }{
		{"2026-3-10", "", "--from"},
		{"", "tomorrow", "--to"},
		{"2026-03-11", "2026-03-10", "after"},
	} {
		if _, _, err := tripsFromJournal(path, c.from, c.to); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("from %q to %q: err %v, want it to mention %q", c.from, c.to, err, c.want)
		}
	}
	if _, _, err := tripsFromJournal(filepath.Join(t.TempDir(), "none.journal"), "", ""); err == nil {
		t.Error("a missing journal gave no error")
	}
}

func TestReportJournalHeldByLiveDesk(t *testing.T) {
	path := handJournal(t)
	j, err := journal.Open(path, journal.Options{}) // the live desk's writer
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	start := time.Now()
	_, _, err = tripsFromJournal(path, "", "")
	if err == nil || !journal.IsLocked(err) || !strings.Contains(err.Error(), "held by a running desk") {
		t.Fatalf("err = %v, want a lock error naming the running desk", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v to give up", el)
	}
	code, _, errs := runCLI(t, "report", "--db", path)
	if code != 2 || !strings.Contains(errs, "held by a running desk") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestReportCLIFromJournal(t *testing.T) {
	path := handJournal(t)
	code, out, errs := runCLI(t, "report", "--db", path, "--json", "--account", "A1", "--from", "2026-03-10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Desk map[string]any `json:"desk"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Desk["net"] != "23.50" || r.Desk["trades"] != 3.0 {
		t.Fatalf("json %v: %s", err, out)
	}
	html := filepath.Join(t.TempDir(), "r.html")
	if code, _, errs := runCLI(t, "report", "--db", path, "--html", html); code != 0 {
		t.Fatalf("html exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	// Start 50000.00, lockout line 1.5% below it.
	for _, want := range []string{`data-account="A1"`, "lockout line 49250.00", `id="desk-net">23.50<`, "hand.journal"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// The demo ORB account trades on the built-in desk's default session
// (issue 16): the default replay journals an ORB entry the gate allowed and
// the venue filled, and a round trip of it.
func TestDefaultSessionORBTrades(t *testing.T) {
	path, _, _ := replayJournal(t)
	j, err := journal.Open(path, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	orb := map[string]bool{}
	filled := 0
	err = j.Iterate(1, func(r journal.Record) error {
		switch r.Kind {
		case journal.KindIntent:
			if b, err := r.IntentBody(); err == nil && b.Intent.Strategy == "orb" && b.Intent.Kind == intent.Enter &&
				(b.Decision == nil || b.Decision.Allowed) {
				orb[b.Intent.ID] = true
			}
		case journal.KindBrokerEvent:
			if ev, err := r.BrokerEvent(); err == nil && ev.FillQty > 0 && orb[ev.ClientID] {
				filled++
			}
		}
		return nil
	})
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(orb) == 0 || filled == 0 {
		t.Fatalf("the default session: %d ORB entries allowed, %d of their fills: the demo ORB account does not trade", len(orb), filled)
	}
	trips, _, err := tripsFromJournal(path, "", "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tr := range trips {
		if tr.Strategy == "orb" {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no ORB round trip on the default session")
	}
	t.Logf("default session: %d ORB entries, %d entry fills, %d round trips", len(orb), filled, n)
}
