package supervisor

// flattenanswer_test.go: a flatten from a surface with the venue stalled
// (issue 25.6). The venue takes every liquidate request and answers none:
// FlattenAnswered still answers once Options.KillAnswerWait has passed —
// accepted, every liquidation sent, the accounts not yet confirmed — with
// the state machines moved; Status shows the kill's progress; a liquidation
// unanswered past Options.VenueAnswerBound marks the venue link down
// (journaled, alerted) until the venue answers. The wall clock is the
// test's: each bound passes when the test moves it, not on a timer.

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/market"
)

// stallBroker takes liquidate requests and answers none until released.
type stallBroker struct {
	*recBroker
	in      chan string // one per liquidate request taken
	release chan struct{}
	once    sync.Once
}

func (b *stallBroker) Liquidate(ctx context.Context, acct string) error {
	b.in <- acct
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.recBroker.Liquidate(ctx, acct)
}

func (b *stallBroker) resume() { b.once.Do(func() { close(b.release) }) }

// countWall is a wall clock the test moves that counts the timers asked
// for each duration, so the test moves it only once a bound's timer is
// set (a timer set after the move would wait for the next one).
type countWall struct {
	*market.ReplayClock
	mu     sync.Mutex
	timers map[time.Duration]int
}

func (w *countWall) NewTimer(d time.Duration) market.Timer {
	w.mu.Lock()
	w.timers[d]++
	w.mu.Unlock()
	return w.ReplayClock.NewTimer(d)
}

func (w *countWall) AfterFunc(d time.Duration, f func()) market.Timer {
	w.mu.Lock()
	w.timers[d]++
	w.mu.Unlock()
	return w.ReplayClock.AfterFunc(d, f)
}

func (w *countWall) set(d time.Duration) int { w.mu.Lock(); defer w.mu.Unlock(); return w.timers[d] }

func TestFlattenAnswersAtOnceWithTheVenueStalled(t *testing.T) {
	ctx := ctxT(t, 60*time.Second)
	t0 := time.Date(2024, 3, 12, 15, 0, 0, 0, time.UTC)
	wall := &countWall{ReplayClock: market.NewReplayClock(t0), timers: map[time.Duration]int{}}
	ra := &recAlerts{}
	sb := &stallBroker{in: make(chan string, 16), release: make(chan struct{})}
	r := newRig(t, rigOpt{Accounts: builtinSpecs(), Alerts: ra, Wall: wall, KillAnswerWait: time.Second, VenueAnswerBound: 2 * time.Second,
		Broker: func(rb *recBroker) broker.Broker { sb.recBroker = rb; return sb }})
	t.Cleanup(sb.resume)
	r.start(ctx, etAt(10, 0, 0))
	r.step(ctx, etAt(10, 0, 1), pts(5000))

	type result struct {
		fa  deskapi.FlattenAnswer
		err error
	}
	got := make(chan result, 1)
	go func() {
		fa, err := r.d.FlattenAnswered(ctx, "", "console", "risk")
		got <- result{fa, err}
	}()
	var taken []string
	for range r.d.accts {
		select {
		case id := <-sb.in:
			taken = append(taken, id)
		case <-time.After(20 * time.Second):
			t.Fatalf("liquidations taken by the venue: %v, want every account's", taken)
		}
	}
	// The answer bound passes (the flatten's wait and the kill's own are
	// set): the flatten is answered without the venue.
	within(t, 20*time.Second, "the answer bounds set", func() bool { return wall.set(time.Second) == 2 })
	select {
	case res := <-got:
		t.Fatalf("the flatten answered before its bound with every liquidation unanswered: %+v", res)
	default:
	}
	wall.Advance(t0.Add(time.Second).UnixNano())
	var res result
	select {
	case res = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no answer to the flatten once its answer bound had passed, the venue stalled")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{"ORB1", "VWAP1", "DELTA1"}
	slices.Sort(want)
	unc := slices.Clone(res.fa.Unconfirmed)
	slices.Sort(unc)
	if res.fa.Scope != "desk" || res.fa.Accounts != 3 || !slices.Equal(unc, want) || len(res.fa.Refused) != 0 {
		t.Fatalf("answer %+v, want the desk's 3 liquidations sent, all unconfirmed", res.fa)
	}
	st := r.d.Status(ctx)
	if st.State != DeskHalting && st.State != DeskHalted {
		t.Errorf("desk %s once the flatten is answered, want halting", st.State)
	}
	if st.LastKill == nil || st.LastKill.Answered || len(st.LastKill.Accounts) != 3 {
		t.Fatalf("status kill progress %+v, want 3 liquidations not yet answered", st.LastKill)
	}
	for _, ka := range st.LastKill.Accounts {
		if ka.Liquidation != "sent" {
			t.Errorf("status: %s liquidation %q, want sent", ka.ID, ka.Liquidation)
		}
	}
	if st.Links.Venue == "down" {
		t.Error("venue down before a liquidation was unanswered past the bound")
	}
	// Past the venue's answer bound: the venue link goes down.
	wall.Advance(t0.Add(2*time.Second + time.Millisecond).UnixNano())
	within(t, 20*time.Second, "the venue link down", func() bool { return r.d.Status(ctx).Links.Venue == "down" })
	within(t, 20*time.Second, "the venue link-lost alert", func() bool { return linkAlerts(ra, alert.KindLinkLost, "venue") == 1 })
	// The venue answers: the kill completes, the link comes back.
	sb.resume()
	within(t, 20*time.Second, "the kill answered and the venue back", func() bool {
		st := r.d.Status(ctx)
		return st.LastKill != nil && st.LastKill.Answered && st.Links.Venue != "down"
	})
	within(t, 20*time.Second, "the venue link-back alert", func() bool { return linkAlerts(ra, alert.KindLinkBack, "venue") == 1 })
	if n := linkAlerts(ra, alert.KindLinkLost, "venue"); n != 1 {
		t.Errorf("%d venue link-lost alerts, want 1", n)
	}
	for _, a := range r.d.accts {
		if !a.halted.Load() {
			t.Errorf("%s not halted after the flatten", a.id)
		}
	}
}

// linkAlerts counts the alerts of kind about link.
func linkAlerts(ra *recAlerts, kind alert.Kind, link string) int {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	n := 0
	for _, a := range ra.got {
		if a.Kind == kind && a.Link != nil && a.Link.Link == link {
			n++
		}
	}
	return n
}
