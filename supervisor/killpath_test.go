package supervisor

// killpath_test.go: the kill path shares no lock or queue with the tick
// path, the intent path or a worker (DESIGN.md "The three paths", 3; issue
// 15). Each test holds one of them — a trade batch stuck in the middle of
// its mark loop, an intent stuck inside its journal append, a worker whose
// queue is full and that reads nothing, a risk-adding request stuck at the
// venue — and shows that a desk kill sends every account's liquidation
// anyway, while it is held. Every account holds a position at the kill,
// so a kill that skips one (the first, the last) fails too.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// heldFor bounds how long a test waits for a kill that must not be held:
// a failure detector, not a measurement (the bench measures).
const heldFor = 10 * time.Second

func killSpecs(n int) []AccountSpec {
	var out []AccountSpec
	for i := 0; i < n; i++ {
		out = append(out, AccountSpec{EnginesOff: true, Config: accounts.Config{ID: fmt.Sprintf("K%d", i+1),
			StartEquity: decimal.NewFromInt(50000), Strategies: []string{"orb"}}})
	}
	return out
}

// entryFor is a one-lot long bracket for account at tm (the market at 5000.25).
func entryFor(account string, tm int64) intent.Intent {
	in := buyBracket(tm)
	in.Account = account
	return in
}

// inPosition starts the rig's desk at 10:00 ET and puts every account but
// those in flat in a one-lot long with its bracket working at the venue.
// It returns the market time reached.
func (r *rig) inPosition(ctx context.Context, flat ...string) int64 {
	r.t.Helper()
	r.start(ctx, etAt(10, 0, 0))
	if err := r.d.WorkersReady(ctx); err != nil {
		r.t.Fatal(err)
	}
	r.step(ctx, etAt(10, 0, 1), pts(5000.25))
	for _, a := range r.d.accts {
		_ = a.m.Fire(EvStart, "test") // engines off: the test trades for them
		if slices.Contains(flat, a.id) {
			continue
		}
		if res := r.d.HandleIntent(ctx, entryFor(a.id, etAt(10, 0, 1))); !res.Sent {
			r.t.Fatalf("%s: entry not sent: %+v", a.id, res)
		}
	}
	r.step(ctx, etAt(10, 0, 2), pts(5000))    // fills every entry, arms the brackets
	r.step(ctx, etAt(10, 0, 3), pts(5000.25)) // a tick in profit
	for _, a := range r.d.accts {
		if p, _ := r.sim.Position(a.id); p.Qty != 1 && !slices.Contains(flat, a.id) {
			r.t.Fatalf("%s: venue position %d, want 1", a.id, p.Qty)
		}
	}
	return etAt(10, 0, 3)
}

// liquidated returns the accounts with a liquidate request at or after
// call seq from.
func (r *rig) liquidated(from int) map[string]int {
	out := map[string]int{}
	for _, c := range r.rec.Calls()[from:] {
		if c.Op == "liquidate" {
			out[c.Account]++
		}
	}
	return out
}

// killWhileHeld runs a desk kill while something is held and fails unless
// it returns, with every account's liquidation sent, before release.
func (r *rig) killWhileHeld(what string) KillReport {
	r.t.Helper()
	from := len(r.rec.Calls())
	done := make(chan KillReport, 1)
	go func() {
		rep, err := r.d.Kill(context.Background(), DeskScope, TriggerConsole, "tester")
		if err != nil {
			r.t.Error(err)
		}
		done <- rep
	}()
	var rep KillReport
	select {
	case rep = <-done:
	case <-time.After(heldFor):
		r.t.Fatalf("the kill did not return while %s: it waits for what the other path holds", what)
	}
	got := r.liquidated(from)
	for _, a := range r.d.accts {
		if got[a.id] == 0 {
			r.t.Errorf("%s: no liquidation sent while %s", a.id, what)
		}
	}
	if rep.Accounts != len(r.d.accts) {
		r.t.Errorf("kill reached %d accounts, want %d", rep.Accounts, len(r.d.accts))
	}
	return rep
}

// flatAfter steps a trade (the liquidations fill) and checks every account
// is flat with nothing working at the venue, and the desk halted.
func (r *rig) flatAfter(ctx context.Context, tm int64) {
	r.t.Helper()
	r.step(ctx, tm, pts(5000.25))
	for _, a := range r.d.accts {
		p, _ := r.sim.Position(a.id)
		open, _ := r.sim.OpenOrders(ctx, a.id)
		if p.Qty != 0 || len(open) != 0 {
			r.t.Errorf("%s at the venue after the kill: position %d, %d open orders %+v", a.id, p.Qty, len(open), open)
		}
	}
	if st := r.d.m.State(); st != DeskHalted {
		r.t.Errorf("desk %s after the liquidations filled, want halted", st)
	}
}

// TestKillWhileMarkLoopHeld: a trade batch is stuck in the middle of its
// mark loop (the third account's books locked, the fourth trade of eight)
// and the kill liquidates every account anyway.
func TestKillWhileMarkLoopHeld(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	r := newRig(t, rigOpt{Accounts: killSpecs(5)})
	tm := r.inPosition(ctx)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.d.markHook = func(account string, i int) {
		if account == "K3" && i == 3 {
			once.Do(func() { close(entered) })
			<-release
		}
	}
	batch := make([]market.Trade, 8)
	for i := range batch {
		batch[i] = market.Trade{Time: tm + int64(i+1)*int64(time.Millisecond), Price: pts(5000.25), Size: 1, Aggressor: market.Buy}
	}
	r.clock.Advance(batch[7].Time)
	ticked := make(chan struct{})
	go func() { defer close(ticked); r.d.OnTrades(ctx, batch) }()
	<-entered
	r.killWhileHeld("a trade batch is stuck in its mark loop")
	close(release)
	<-ticked
	r.d.markHook = nil
	r.flatAfter(ctx, batch[7].Time+int64(time.Second))
}

// holdJournal holds the appends hold picks until release is closed,
// passing everything else (and the kill's urgent lane) straight through.
type holdJournal struct {
	Journal
	hold    func(journal.Record) bool
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (h *holdJournal) Append(ctx context.Context, e journal.Record) (uint64, error) {
	if h.hold(e) {
		h.once.Do(func() { close(h.entered) })
		<-h.release
	}
	return h.Journal.Append(ctx, e)
}

// AppendUrgent holds as Append does; a held one that its caller stops
// waiting for (ctx) lands once released, as a queued record would.
func (h *holdJournal) AppendUrgent(ctx context.Context, e journal.Record) (uint64, error) {
	if h.hold(e) {
		h.once.Do(func() { close(h.entered) })
		select {
		case <-h.release:
		case <-ctx.Done():
			go func() {
				<-h.release
				_, _ = h.urgent(context.Background(), e)
			}()
			return 0, ctx.Err()
		}
	}
	return h.urgent(ctx, e)
}

func (h *holdJournal) urgent(ctx context.Context, e journal.Record) (uint64, error) {
	if uj, ok := h.Journal.(UrgentJournal); ok {
		return uj.AppendUrgent(ctx, e)
	}
	return h.Journal.Append(ctx, e)
}

// TestKillWhileIntentInJournal: an entry is stuck inside its journal append
// (its fsync) when the kill lands; every liquidation goes out at once, and
// the entry, once durable, is withdrawn — it never reaches the venue.
func TestKillWhileIntentInJournal(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	hj := &holdJournal{entered: make(chan struct{}), release: make(chan struct{})}
	var armed sync.Mutex
	held := ""
	hj.hold = func(e journal.Record) bool {
		armed.Lock()
		defer armed.Unlock()
		return e.Kind == journal.KindIntent && held != "" && e.ClientID == held
	}
	r := newRig(t, rigOpt{Accounts: killSpecs(5), Journal: func(j Journal) Journal { hj.Journal = j; return hj }})
	tm := r.inPosition(ctx, "K5") // K5 flat, to enter
	in := entryFor("K5", tm)
	in.ID = "K5.held.1"
	armed.Lock()
	held = in.ID
	armed.Unlock()
	res := make(chan IntentResult, 1)
	go func() { res <- r.d.HandleIntent(ctx, in) }()
	select {
	case <-hj.entered:
	case got := <-res:
		t.Fatalf("the add never reached the journal held: %+v", got)
	}
	r.killWhileHeld("an intent is stuck in its journal append")
	close(hj.release)
	got := <-res
	if got.Sent || got.Decision.Reason != "halted" {
		t.Fatalf("the held entry after the kill: %+v, want withdrawn as halted", got)
	}
	for _, c := range r.rec.Calls() {
		if c.ClientID == in.ID {
			t.Fatalf("the held entry reached the venue: %+v", c)
		}
	}
	r.flatAfter(ctx, tm+int64(time.Second))
}

// holdBroker holds the brackets hold picks before they reach the venue,
// until release is closed.
type holdBroker struct {
	*recBroker
	hold     func(broker.Bracket) bool
	entered  chan struct{}
	release  chan struct{}
	mu       sync.Mutex
	returned int // calls in the venue's log when the held bracket returned
}

func (h *holdBroker) SubmitBracket(ctx context.Context, b broker.Bracket) error {
	if !h.hold(b) {
		return h.recBroker.SubmitBracket(ctx, b)
	}
	close(h.entered)
	<-h.release
	err := h.recBroker.SubmitBracket(ctx, b)
	h.mu.Lock()
	h.returned = len(h.recBroker.Calls())
	h.mu.Unlock()
	return err
}

// TestKillWhileEntryAtVenue: an entry passed every check and is on its way
// to the venue (the broker call has not returned) when the kill lands. The
// liquidations go out at once without waiting for it; once it has reached
// the venue, its account is liquidated again, so the bracket it placed
// does not outlive the kill.
func TestKillWhileEntryAtVenue(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	hb := &holdBroker{entered: make(chan struct{}), release: make(chan struct{})}
	held := "K5.held.1"
	hb.hold = func(b broker.Bracket) bool { return b.Entry.ClientID == held }
	r := newRig(t, rigOpt{Accounts: killSpecs(5), Broker: func(rb *recBroker) broker.Broker { hb.recBroker = rb; return hb }})
	tm := r.inPosition(ctx, "K5") // K5 flat, to enter
	in := entryFor("K5", tm)      // rests at the venue (a limit below the market)
	in.ID = held
	res := make(chan IntentResult, 1)
	go func() { res <- r.d.HandleIntent(ctx, in) }()
	select {
	case <-hb.entered:
	case got := <-res:
		t.Fatalf("the add never reached the broker: %+v", got)
	}
	from := len(r.rec.Calls())
	rep := r.killWhileHeld("an entry is on its way to the venue")
	if len(rep.Chased) != 1 || rep.Chased[0] != "K5" {
		t.Errorf("chased %v, want K5 (its entry was in flight across the halt)", rep.Chased)
	}
	close(hb.release)
	if got := <-res; !got.Sent {
		t.Fatalf("the entry in flight: %+v", got)
	}
	r.d.chases.Wait()
	hb.mu.Lock()
	returned := hb.returned
	hb.mu.Unlock()
	// The venue's log: K5 liquidated, the held bracket, K5 liquidated again.
	var order []string
	for _, c := range r.rec.Calls()[from:] {
		if c.Account == "K5" {
			order = append(order, c.Op)
		}
	}
	if len(order) != 3 || order[0] != "liquidate" || order[1] != "bracket" || order[2] != "liquidate" {
		t.Fatalf("K5's requests from the kill on: %v, want liquidate, bracket, liquidate", order)
	}
	if again := r.liquidated(returned); again["K5"] != 1 {
		t.Fatalf("K5 not liquidated again after its entry reached the venue (%v)", again)
	}
	r.flatAfter(ctx, tm+int64(time.Second))
}

// TestKillWhileWorkerQueueFull: a worker process is stopped (SIGSTOP: it
// reads nothing) and its frame queue is full; the kill liquidates every
// account anyway, does not wait for the worker nor kill it, and the worker
// — once it runs again — has been told to halt.
func TestKillWhileWorkerQueueFull(t *testing.T) {
	ctx := ctxT(t, 60*time.Second)
	proc := enginesProc("")
	proc.Queue = 8
	proc.HeartbeatTimeout = time.Minute // stopped on purpose: not a hung worker here
	specs := killSpecs(3)
	r := newRig(t, rigOpt{Accounts: specs, Workers: Processes, Proc: proc})
	tm := r.inPosition(ctx)
	a := r.d.byID["K2"]
	p := a.proc()
	within(t, 20*time.Second, "K2's worker running", func() bool { return p.PID() != 0 })
	// K2 trades (inPosition fired its machine only): its worker is told it
	// may propose entries, so that only the kill can tell it to halt.
	a.tellWorker()
	if p.Halted() {
		t.Fatal("K2's worker is halted before the kill: the test proves nothing")
	}
	pid := p.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	})
	// Frames until the pipe is full and the queue behind it too.
	big := make([]market.Trade, 4096)
	for i := range big {
		big[i] = market.Trade{Time: tm, Price: pts(5000.25), Size: 1, Aggressor: market.Buy}
	}
	frame := wire.AppendTicks(nil, big)
	deadline := time.Now().Add(20 * time.Second)
	for p.Backlog() < proc.Queue { // the writer only takes frames out: a slot seen free stays free
		if time.Now().After(deadline) {
			t.Fatalf("the queue never filled (backlog %d)", p.Backlog())
		}
		p.Send(wire.Ticks, frame)
	}
	r.killWhileHeld("a worker's queue is full and it reads nothing")
	if p.PID() != pid {
		t.Fatalf("the kill killed the stopped worker (pid %d → %d): the halt went through its queue", pid, p.PID())
	}
	if !p.Halted() {
		t.Fatal("K2's worker not told to halt")
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	within(t, 30*time.Second, "K2's worker reading again", func() bool { return p.Backlog() == 0 })
	if err := r.d.SyncWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	r.flatAfter(ctx, tm+int64(time.Second))
	if p.PID() != pid {
		t.Fatalf("K2's worker was replaced (pid %d → %d)", pid, p.PID())
	}
}

// TestKillWhileJournalStalls: the disk stalls under the kill's own record
// (its append does not return); past Options.KillJournalWait the kill
// liquidates anyway, says so, and the record lands when the disk answers.
func TestKillWhileJournalStalls(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	hj := &holdJournal{entered: make(chan struct{}), release: make(chan struct{}), hold: func(e journal.Record) bool { return e.Kind == journal.KindKill }}
	r := newRig(t, rigOpt{Accounts: killSpecs(3), KillJournalWait: 20 * time.Millisecond,
		Journal: func(j Journal) Journal { hj.Journal = j; return hj }})
	tm := r.inPosition(ctx)
	rep := r.killWhileHeld("the kill's own journal append is stalled")
	if !errors.Is(rep.JournalErr, errKillJournalSlow) {
		t.Fatalf("kill report journal error %v, want the wait bound", rep.JournalErr)
	}
	close(hj.release)
	within(t, 10*time.Second, "the kill record durable", func() bool {
		for _, rec := range r.records() {
			if rec.Kind == journal.KindKill {
				return true
			}
		}
		return false
	})
	r.flatAfter(ctx, tm+int64(time.Second))
}
