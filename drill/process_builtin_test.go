// process_builtin_test.go: the desk-lockout scenario's data (gapSession)
// and its readers of the desk's status and journal, without the processes.
package drill

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor"
)

// The ORB (DESIGN's defaults, as the built-in desk runs it) takes one long
// on the gap session, a buy stop-limit at gapTrigger; every trade in the
// gapHover after its intent is below the trigger (so the venue child, a
// little behind or ahead of the desk, never refuses it as a buy stop at or
// below the last trade), it fills before it expires, and the gap then
// trades through its stop. The rounds that lost the entry had 4 s of data
// (20 ms at pace 200) between the breakout bar's close and the trigger.
func TestGapSessionLeavesTheEntryClear(t *testing.T) {
	// The margin in wall time: the desk's few milliseconds from the bar's
	// close to the venue, on a loaded machine, must fit many times over.
	if wall := time.Duration(float64(gapHover) / gapPace); wall < time.Second {
		t.Fatalf("gapHover %s is %s at pace %d: want at least 1 s of wall time", gapHover, wall, gapPace)
	}
	path := filepath.Join(t.TempDir(), "gap.csv")
	beforeGap, total, err := gapSession(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := market.Open(path, market.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := strategies.NewRunner("L1", strategies.NewORB(strategies.DefaultORBConfig()))
	var trades []market.Trade
	var entries []intent.Intent
	at := map[int]int{} // entry → index of the trade that caused it
	for {
		tr, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		trades = append(trades, tr)
		for _, in := range r.OnTrade(tr) {
			if in.Kind == intent.Enter {
				at[len(entries)] = len(trades) - 1
				entries = append(entries, in)
			}
		}
	}
	if int64(len(trades)) != total || beforeGap <= 0 || beforeGap >= total {
		t.Fatalf("%d trades, gapSession says %d, %d before the gap", len(trades), total, beforeGap)
	}
	if len(entries) != 1 {
		t.Fatalf("the ORB entered %d times, want once: %+v", len(entries), entries)
	}
	in := entries[0]
	if in.Side != market.Buy || in.EntryType != market.StopLimitOrder || in.Entry != gapTrigger {
		t.Fatalf("entry %s %s @ %s, want a buy stop-limit @ %s", in.Side, in.EntryType, in.Entry, gapTrigger)
	}
	// The venue child's last trade is anywhere from a little behind to a
	// little ahead of the desk's; none within gapHover may reach the trigger.
	from := at[0]
	clear := 0
	for i := from; i < len(trades) && trades[i].Time < in.Time+int64(gapHover); i++ {
		if trades[i].Price >= in.Entry {
			t.Fatalf("trade %d at %s, %s after the entry's intent, is at or above its trigger %s",
				i, trades[i].Price, time.Duration(trades[i].Time-in.Time), in.Entry)
		}
		clear++
	}
	if clear < 100 {
		t.Fatalf("only %d trades below the trigger after the intent", clear)
	}
	filled, gapped := false, false
	for i := from; i < len(trades); i++ {
		tr := trades[i]
		if !filled && tr.Price >= in.Entry && tr.Price <= in.Limit {
			filled = true
			if tr.Time >= in.Time+in.ExpireNs {
				t.Fatalf("the entry's first fillable trade at %s comes after it expires", time.Duration(tr.Time-in.Time))
			}
			if int64(i) >= beforeGap {
				t.Fatalf("the entry's fillable trades (from %d) are not before the gap (%d)", i, beforeGap)
			}
		}
		if filled && tr.Price < in.Stop {
			gapped = true
			if int64(i) != beforeGap || in.Stop-tr.Price < 40*market.TicksPerPoint {
				t.Fatalf("the first trade through the stop %s is %d at %s, want trade %d, ≥ 40 points through", in.Stop, i, tr.Price, beforeGap)
			}
			break
		}
	}
	if !filled || !gapped {
		t.Fatalf("entry filled %v, gap through the stop %v", filled, gapped)
	}
}

func TestVenueRefusal(t *testing.T) {
	st := &deskapi.Status{Journal: []deskapi.JournalLine{
		{Seq: 9, Kind: string(journal.KindIntent), Account: "L1", Text: "L1 orb enter → allowed"},
		{Seq: 10, Kind: string(journal.KindBrokerError), Account: "BIG", Text: "other account"},
		{Seq: 11, Kind: string(journal.KindBrokerError), Account: "L1", Text: "entry: buy stop 5006.25 is at or below the last trade 5007.00"},
	}}
	if got := venueRefusal(st, "L1"); !strings.Contains(got, "at or below the last trade") {
		t.Fatalf("venueRefusal = %q", got)
	}
	if got := venueRefusal(st, "X"); got != "" {
		t.Fatalf("venueRefusal of an account with no refusal = %q", got)
	}
	if got := venueRefusal(nil, "L1"); got != "" {
		t.Fatalf("venueRefusal(nil) = %q", got)
	}
	if got := accountTail(st, "L1"); !strings.Contains(got, "9 intent") || !strings.Contains(got, "11 broker_error") || strings.Contains(got, "other account") {
		t.Fatalf("accountTail = %q", got)
	}
}

// readLockoutLog counts the desk's unlocks and the entries journaled while
// the desk is locked out (from the desk_drawdown kill to the unlock), and
// names an allowed one.
func TestReadLockoutLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db")
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	enter := func(acct, why string, allowed bool) journal.Record {
		return journal.NewIntent(intent.Intent{Kind: intent.Enter, Account: acct, Strategy: "orb", Reason: why},
			&journal.Decision{Allowed: allowed, Reason: map[bool]string{false: "desk_locked_out"}[allowed]})
	}
	kill := func(trigger string) journal.Record {
		return journal.NewKill(0, journal.Kill{Scope: "desk", Trigger: trigger, Who: "deskguard"})
	}
	for _, rec := range []journal.Record{
		enter("L1", "before: allowed, not counted", true),
		kill("cli"), // a kill that does not lock the desk
		enter("L1", "after a cli kill: not counted", true),
		kill(string(supervisor.TriggerDeskDrawdown)),
		enter("L1", "refused while locked", false),
		enter("BIG", "allowed while locked", true),
		journal.NewUnlock("L1", 0, "m", "an account's unlock: not the desk's"),
		enter("BIG", "still locked", true),
		journal.NewDeskUnlock(0, "m", "reviewed", nil),
		enter("BIG", "after the unlock: not counted", true),
	} {
		if _, err := j.Append(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := readLockoutLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.unlocks != 1 || l.refused != 1 || len(l.allowedWhileLock) != 2 || !strings.Contains(l.allowedWhileLock[0], "BIG allowed while locked") ||
		!strings.Contains(l.allowedWhileLock[1], "BIG still locked") {
		t.Fatalf("readLockoutLog = %+v", l)
	}
}
