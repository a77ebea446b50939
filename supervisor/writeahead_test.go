package supervisor

// writeahead_test.go: invariant 7 at desk level — every request reaches
// the broker only after the record that asks for it is durable. A journal
// and a broker share one log: the journal writes "durable X" when an
// append has returned, the broker "sent X" when a request arrives; every
// "sent" must follow its "durable". (The venue's first journaled event is
// no oracle for this: it is journaled after the send whatever the order.)

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// orderLog is the shared log: keys made durable and keys sent, in order.
type orderLog struct {
	mu      sync.Mutex
	durable map[string]int // key → position of its first durable record
	n       int
	bad     []string
	sent    int
}

func (l *orderLog) madeDurable(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.n++
		if _, ok := l.durable[k]; !ok {
			l.durable[k] = l.n
		}
	}
}

func (l *orderLog) sentKey(k string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	l.sent++
	if _, ok := l.durable[k]; !ok {
		l.bad = append(l.bad, k)
	}
}

// waJournal records what each durable append asks the broker to do.
type waJournal struct {
	Journal
	log *orderLog
}

func (j *waJournal) keys(e journal.Record) []string {
	switch e.Kind {
	case journal.KindIntent:
		b, err := e.IntentBody()
		if err != nil || b.Decision == nil || !b.Decision.Allowed {
			return nil
		}
		switch in := b.Intent; in.Kind {
		case intent.Enter, intent.Add:
			return []string{"bracket:" + in.ID}
		case intent.MoveStop:
			return []string{"modify:" + in.Ref}
		case intent.Cancel:
			return []string{"cancel:" + in.Ref}
		case intent.Exit:
			return []string{"liquidate:" + e.Account}
		}
	case journal.KindKill:
		if k, err := e.Kill(); err == nil {
			var out []string
			for _, id := range k.Accounts {
				out = append(out, "liquidate:"+id)
			}
			return out
		}
	case journal.KindLockout:
		return []string{"liquidate:" + e.Account}
	case journal.KindStopRepair:
		if e.ClientID != "" {
			return []string{"order:" + e.ClientID}
		}
		return []string{"trim:" + e.Account}
	}
	return nil
}

func (j *waJournal) Append(ctx context.Context, e journal.Record) (uint64, error) {
	seq, err := j.Journal.Append(ctx, e)
	if err == nil {
		j.log.madeDurable(j.keys(e)...)
	}
	return seq, err
}

func (j *waJournal) AppendUrgent(ctx context.Context, e journal.Record) (uint64, error) {
	seq, err := j.Journal.(UrgentJournal).AppendUrgent(ctx, e)
	if err == nil {
		j.log.madeDurable(j.keys(e)...)
	}
	return seq, err
}

func (j *waJournal) AppendBatch(ctx context.Context, es []journal.Record) error {
	err := j.Journal.(BatchJournal).AppendBatch(ctx, es)
	if err == nil {
		for _, e := range es {
			j.log.madeDurable(j.keys(e)...)
		}
	}
	return err
}

// waBroker logs every request as it arrives, before the venue has it.
type waBroker struct {
	*recBroker
	log *orderLog
}

func (b *waBroker) SubmitBracket(ctx context.Context, br broker.Bracket) error {
	b.log.sentKey("bracket:" + br.Entry.ClientID)
	return b.recBroker.SubmitBracket(ctx, br)
}
func (b *waBroker) SubmitOrder(ctx context.Context, o broker.Order) error {
	b.log.sentKey("order:" + o.ClientID)
	return b.recBroker.SubmitOrder(ctx, o)
}
func (b *waBroker) Modify(ctx context.Context, acct, id string, p, sp market.Price) error {
	b.log.sentKey("modify:" + id)
	return b.recBroker.Modify(ctx, acct, id, p, sp)
}
func (b *waBroker) Cancel(ctx context.Context, acct, id string) error {
	if strings.Contains(id, ".repair.") {
		b.log.sentKey("trim:" + acct) // the desk's own repair stop, trimmed
	} else {
		b.log.sentKey("cancel:" + id)
	}
	return b.recBroker.Cancel(ctx, acct, id)
}
func (b *waBroker) Liquidate(ctx context.Context, acct string) error {
	b.log.sentKey("liquidate:" + acct)
	return b.recBroker.Liquidate(ctx, acct)
}

// TestNothingReachesTheBrokerBeforeItIsDurable replays a session through a
// six-account desk (entries, expiries, stop moves, exits, repairs, lockouts,
// the flat-by job), then acts on one account by hand (a stop moved, a
// cancel, an exit, a kill), and checks every request against the log.
func TestNothingReachesTheBrokerBeforeItIsDurable(t *testing.T) {
	wl := &orderLog{durable: map[string]int{}}
	r := newRig(t, rigOpt{Accounts: manySpecs(6, 20000),
		Journal: func(j Journal) Journal { return &waJournal{Journal: j, log: wl} },
		Broker:  func(rb *recBroker) broker.Broker { return &waBroker{recBroker: rb, log: wl} }})
	// Seed 13: since the synthetic tape's delta follows its price (market/synth),
	// seed 11 sends 36 requests, seed 13 51 (seeds 5-22: 26 to 51).
	ts := session(t, 13, 0.2, 0)
	ctx := ctxT(t, 60*time.Second)
	if _, err := Replay(ctx, r.d, &sliceReader{ts: ts}, r.rec, r.clock); err != nil {
		t.Fatal(err)
	}
	// By hand, on an account in a fresh bracket.
	r2 := newRig(t, rigOpt{Accounts: killSpecs(2),
		Journal: func(j Journal) Journal { return &waJournal{Journal: j, log: wl} },
		Broker:  func(rb *recBroker) broker.Broker { return &waBroker{recBroker: rb, log: wl} }})
	tm := r2.inPosition(ctx)
	var stopID, targetID string
	a := r2.d.byID["K1"]
	a.mu.Lock()
	for id, o := range a.orders {
		if !o.done() && o.qty > 0 {
			switch o.typ {
			case market.StopOrder:
				stopID = id
			case market.LimitOrder:
				targetID = id
			}
		}
	}
	a.mu.Unlock()
	for _, in := range []intent.Intent{
		{Kind: intent.MoveStop, Account: "K1", Strategy: "test", Ref: stopID, Stop: pts(4999.75)},
		{Kind: intent.Cancel, Account: "K1", Strategy: "test", Ref: targetID},
		{Kind: intent.Exit, Account: "K2", Strategy: "test"},
	} {
		if res := r2.d.HandleIntent(ctx, in); !res.Sent {
			t.Fatalf("%s not sent: %+v", in.Kind, res)
		}
	}
	// The venue drops K1's stop: the desk repairs its coverage.
	if err := r2.sim.Cancel(ctx, "K1", stopID); err != nil {
		t.Fatal(err)
	}
	if err := r2.d.drainSync(ctx, r2.rec); err != nil {
		t.Fatal(err)
	}
	repaired := false
	for _, c := range r2.rec.Calls() {
		repaired = repaired || c.Op == "order" && strings.Contains(c.ClientID, ".repair.")
	}
	if !repaired {
		t.Fatal("no repair stop placed: the test proves nothing for repairs")
	}
	if _, err := r2.d.Kill(ctx, DeskScope, TriggerConsole, "tester"); err != nil {
		t.Fatal(err)
	}
	r2.step(ctx, tm+int64(time.Second), pts(5000.25))

	wl.mu.Lock()
	defer wl.mu.Unlock()
	if wl.sent < 50 {
		t.Fatalf("only %d requests sent: the test proves little", wl.sent)
	}
	for _, k := range wl.bad {
		t.Errorf("%s reached the broker before its record was durable", k)
	}
	t.Logf("%d requests sent, each after its durable record", wl.sent)
}
