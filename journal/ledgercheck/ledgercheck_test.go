package ledgercheck_test

// ledgercheck_test.go: crafted record sequences through the checker. A
// restart journals a session_reset "desk start" that only says what the
// recovered books are (supervisor.Recover and firm's fold skip it): the
// checker must not start a new session there (it did, and every snapshot
// after a restart then disagreed on realized ticks and fees), while a
// scheduled session reset still starts one.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/execution"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/journal/ledgercheck"
	"github.com/deskguard/deskguard/market"
)

const acct = "A1"

// seqr numbers records as the journal would.
type seqr struct {
	t    *testing.T
	seq  uint64
	recs []journal.Record
}

func (s *seqr) add(r journal.Record) {
	s.seq++
	r.Seq = s.seq
	s.recs = append(s.recs, r)
}

// fill journals a fill and books it on the desk's ledger l.
func (s *seqr) fill(l *accounts.Ledger, side market.Side, px string, id string) {
	s.t.Helper()
	p := market.MustPrice(px)
	ev := execution.Event{Kind: execution.FilledEv, Account: acct, ClientID: id, Side: side, FillQty: 1, FillPrice: p,
		Time: int64(s.seq+1) * 1e9, VenueID: "v" + id}
	s.add(journal.NewBrokerEvent(ev))
	if err := l.ApplyFill(accounts.Fill{Time: ev.Time, Side: side, Qty: 1, Price: p, ClientID: id, Ref: ev.VenueID}); err != nil {
		s.t.Fatal(err)
	}
}

// snapshot journals the desk's ledger as the desk's snapshot does.
func (s *seqr) snapshot(l *accounts.Ledger) {
	s.t.Helper()
	raw, err := json.Marshal(ledgercheck.LedgerSnapshot{Ledgers: []accounts.LedgerState{l.State()}})
	if err != nil {
		s.t.Fatal(err)
	}
	r, err := journal.NewSnapshot(int64(s.seq+1)*1e9, raw)
	if err != nil {
		s.t.Fatal(err)
	}
	s.add(r)
}

func TestSessionResets(t *testing.T) {
	start := decimal.RequireFromString("50000.00")
	cases := []struct {
		name string
		why  string
		// deskResets: the desk's ledger starts a new session at the record
		// (a scheduled reset) or keeps what recovery rebuilt (desk start).
		deskResets  bool
		wantProblem string
	}{
		{name: "desk start keeps the recovered session", why: "desk start"},
		{name: "a scheduled reset starts a new one", why: "", deskResets: true},
		{name: "a scheduled reset the desk did not make is found", why: "", wantProblem: "realized ticks recomputed from fills 0, snapshot says 4"},
		{name: "a desk start the desk took for a new session is found", why: "desk start", deskResets: true,
			wantProblem: "realized ticks recomputed from fills 4, snapshot says 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := accounts.NewLedger(accounts.Config{ID: acct, StartEquity: start}.WithDefaults())
			if err != nil {
				t.Fatal(err)
			}
			s := &seqr{t: t}
			// First life: a round trip (+4 ticks, one round turn of fees),
			// a snapshot.
			s.fill(l, market.Buy, "5100.00", "A1.1")
			s.fill(l, market.Sell, "5101.00", "A1.2")
			s.snapshot(l)
			// The session reset record, then a fill and a snapshot.
			s.add(journal.NewSessionReset(int64(s.seq+1)*1e9, journal.SessionReset{Why: c.why,
				Accounts: map[string]string{acct: l.StartEquity().StringFixed(2)}}))
			if c.deskResets {
				if err := l.ResetSession(l.StartEquity()); err != nil {
					t.Fatal(err)
				}
			}
			s.fill(l, market.Buy, "5102.00", "A1.3")
			s.fill(l, market.Sell, "5102.00", "A1.4")
			s.snapshot(l)

			lc := ledgercheck.New()
			var problems []string
			for _, r := range s.recs {
				problems = append(problems, lc.Check(r)...)
			}
			problems = append(problems, lc.Finish()...)
			if lc.Checked() != 2 {
				t.Errorf("%d ledger comparisons, want 2", lc.Checked())
			}
			got := strings.Join(problems, "\n")
			if c.wantProblem == "" && got != "" {
				t.Fatalf("problems:\n%s", got)
			}
			if c.wantProblem != "" && !strings.Contains(got, c.wantProblem) {
				t.Fatalf("problems %q, want %q", got, c.wantProblem)
			}
		})
	}
}
