// helpers_test.go: the rig of the firm tests — a real NATS server
// (nats-server/v2 on loopback, JetStream in t.TempDir()), desks whose
// journals are real journal files, each with its outbox on its own
// connection, and aggregators that can be stopped and started again.

package firm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/natstest"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/outbox"
)

// waitFor bounds every wait (a failure, never a synchronisation).
const waitFor = 60 * time.Second

func within(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	tk := time.NewTicker(2 * time.Millisecond)
	defer tk.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", waitFor, what)
		}
		<-tk.C
	}
}

func startNATS(t testing.TB) *natstest.Server {
	t.Helper()
	s, err := natstest.Start(filepath.Join(t.TempDir(), "jetstream"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func connect(t testing.TB, url, name string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := outbox.Connect(url, name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// scriptDesk is a desk whose journal is written by a script: intents
// allowed and refused, acceptances, fills of entries and of their exits,
// cancels, transitions.
type scriptDesk struct {
	name string
	dir  string
	j    *journal.Journal
	ob   *outbox.Outbox
	rng  *rand.Rand
	px   market.Price
	n    int
	stop func()
	opts []nats.Option
}

func newScriptDesk(t testing.TB, name, url string, seed uint64, opts ...nats.Option) *scriptDesk {
	t.Helper()
	d := &scriptDesk{name: name, dir: t.TempDir(), rng: rand.New(rand.NewPCG(seed, 7)), px: market.MustPrice("5100.00")}
	j, err := journal.Open(filepath.Join(d.dir, "desk.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.j = j
	t.Cleanup(func() { _ = j.Close() })
	eff, _ := json.Marshal(map[string]any{"accounts": []map[string]string{
		{"id": "A1", "start_equity": "50000.00", "fees_rt": "1.20"},
		{"id": "A2", "start_equity": "25000.00", "fees_rt": "1.00"},
		{"id": "A3", "start_equity": "50000.00", "fees_rt": "1.20"}}})
	d.append(t, journal.NewConfigChange("", 0, journal.ConfigChange{Who: "deskguard", Key: "config", To: "sha256:x", Effective: eff}))
	d.append(t, journal.NewSessionReset(0, journal.SessionReset{Session: "2026-03-10", Why: "desk start",
		Accounts: map[string]string{"A1": "50000.00", "A2": "25000.00", "A3": "50000.00"}}))
	d.opts = opts
	d.startOutbox(t, url)
	return d
}

func (d *scriptDesk) startOutbox(t testing.TB, url string) {
	t.Helper()
	nc := connect(t, url, "desk-"+d.name, d.opts...)
	ob, err := outbox.New(outbox.Options{Desk: d.name, Journal: d.j, Conn: nc, CursorFile: filepath.Join(d.dir, "desk.db.outbox")})
	if err != nil {
		t.Fatal(err)
	}
	d.ob = ob
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	d.stop = func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("outbox %s: %v", d.name, err)
		}
		nc.Close()
	}
	t.Cleanup(func() {
		if d.stop != nil {
			d.stop()
			d.stop = nil
		}
	})
}

func (d *scriptDesk) append(t testing.TB, r journal.Record) {
	t.Helper()
	if _, err := d.j.Append(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// trade writes one round of the script (several records).
func (d *scriptDesk) trade(t testing.TB) {
	t.Helper()
	d.n++
	acct := fmt.Sprintf("A%d", 1+d.rng.IntN(3))
	id := fmt.Sprintf("%s.%s.%d", d.name, acct, d.n)
	side := market.Buy
	if d.rng.IntN(2) == 0 {
		side = market.Sell
	}
	d.px += market.Price(d.rng.IntN(9) - 4)
	now := time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC).Add(time.Duration(d.n) * time.Second).UnixNano()
	in := intent.Intent{ID: id, Kind: intent.Enter, Account: acct, Strategy: "orb", Time: now, Side: side, Qty: int64(1 + d.rng.IntN(3)),
		EntryType: market.LimitOrder, Entry: d.px, Stop: d.px - market.Price(side.Sign())*8, Target: d.px + market.Price(side.Sign())*12}
	if d.rng.IntN(8) == 0 {
		d.append(t, journal.NewIntent(in, &journal.Decision{Allowed: false, Reason: "max_position"}))
		return
	}
	d.append(t, journal.NewIntent(in, &journal.Decision{Allowed: true}))
	ev := func(e broker.Event) {
		e.Account, e.Time = acct, now
		d.append(t, journal.NewBrokerEvent(e))
	}
	ev(broker.Event{ClientID: id, Kind: broker.Accepted, Side: side, LeavesQty: in.Qty, Role: broker.EntryLeg, GroupID: id})
	switch d.rng.IntN(4) {
	case 0: // cancelled unfilled
		ev(broker.Event{ClientID: id, Kind: broker.CancelledEv, Side: side, Role: broker.EntryLeg, GroupID: id, Reason: "expired"})
	case 1: // filled, position left open with its stop working
		ev(broker.Event{ClientID: id, Kind: broker.FilledEv, Side: side, FillQty: in.Qty, FillPrice: d.px, Role: broker.EntryLeg, GroupID: id})
		stop, _ := journal.LegIDs(id)
		ev(broker.Event{ClientID: stop, Kind: broker.Accepted, Side: side.Opposite(), LeavesQty: in.Qty, Role: broker.StopLeg, GroupID: id})
	default: // filled, then out at the stop or the target
		ev(broker.Event{ClientID: id, Kind: broker.FilledEv, Side: side, FillQty: in.Qty, FillPrice: d.px, Role: broker.EntryLeg, GroupID: id})
		stop, target := journal.LegIDs(id)
		out, px := stop, in.Stop
		if d.rng.IntN(2) == 0 {
			out, px = target, in.Target
		}
		ev(broker.Event{ClientID: out, Kind: broker.FilledEv, Side: side.Opposite(), FillQty: in.Qty, FillPrice: px, Role: broker.StopLeg, GroupID: id})
		other := target
		if out == target {
			other = stop
		}
		ev(broker.Event{ClientID: other, Kind: broker.CancelledEv, Side: side.Opposite(), GroupID: id, Reason: "oco"})
	}
	if d.rng.IntN(10) == 0 {
		d.append(t, journal.NewTransition(now, journal.Transition{Machine: "account", ID: acct, From: "idle", To: "trading", Event: "start"}))
	}
}

func (d *scriptDesk) committed(t testing.TB) uint64 {
	t.Helper()
	c, err := d.j.Committed()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// journalBook folds the desk's journal directly: what the firm must hold.
func (d *scriptDesk) journalBook(t testing.TB) string {
	t.Helper()
	bk := firm.NewBook(d.name)
	if err := d.j.Iterate(1, func(r journal.Record) error { bk.Apply(r); return nil }); err != nil {
		t.Fatal(err)
	}
	c, _ := d.j.Created()
	bk.Journal = c
	return bookJSON(t, bk)
}

func bookJSON(t testing.TB, bk *firm.Book) string {
	t.Helper()
	v := bk.View(0)
	b, err := json.Marshal(struct {
		Last, Records uint64
		Gaps, Errors  []string
		State         string
		Kills         []firm.Kill
		View          []firm.AccountView
	}{bk.LastSeq, bk.Records, bk.Gaps, bk.Errors, bk.State, bk.Kills, v})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runningAgg is an aggregator running in a goroutine.
type runningAgg struct {
	a    *firm.Aggregator
	stop func()
}

func startAgg(t testing.TB, opt firm.Options) *runningAgg {
	t.Helper()
	a, err := firm.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	r := &runningAgg{a: a}
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("aggregator: %v", err)
				}
			case <-time.After(waitFor):
				t.Error("aggregator did not stop")
			}
		})
	}
	t.Cleanup(r.stop)
	return r
}

// streamCount is how many messages of desk the stream holds.
func streamCount(t testing.TB, nc *nats.Conn, desk string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := wire.CountDesk(ctx, nc, wire.StreamOptions{}, desk)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
