package supervisor

// killrun.go: a kill on its way — what the surfaces' answer and Status
// read of it (a venue that does not answer must never leave a caller
// without an answer, issue 25.6), and the watch on the venue's answers: a
// liquidation unanswered past Options.VenueAnswerBound marks the venue
// link down (journaled, alerted, the desk degraded) until it is answered.
// Nothing here is on the kill path before its last liquidate request is
// out but atomics and a timer started beside each request.

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/market"
)

// A liquidation's answer, as a killRun records it.
const (
	liqSent     int32 = iota // on its way: the venue has not answered
	liqAnswered              // the venue took it
	liqRefused               // the venue refused it (or the request failed)
	liqHeld                  // held back: the broker is liquidating the account itself (brokerliq.go)
)

// killRun is one kill under way. Its fields are written before answered,
// moved and done are closed, and read after.
type killRun struct {
	k      killOrder
	ids    []string
	at     int64 // desk clock, ns
	state  []atomic.Int32
	errs   []error
	chased []bool
	left   atomic.Int64
	t1     time.Time // when the last liquidation was answered (wall)
	// answered: every liquidation answered. moved: the state machines have
	// moved (every liquidation answered, or the answer bound passed).
	// done: the report is written.
	answered chan struct{}
	moved    chan struct{}
	done     chan struct{}
	report   KillReport
}

func newKillRun(k killOrder, ids []string, atNs int64) *killRun {
	return &killRun{k: k, ids: ids, at: atNs, state: make([]atomic.Int32, len(ids)), errs: make([]error, len(ids)),
		chased: make([]bool, len(ids)), answered: make(chan struct{}), moved: make(chan struct{}), done: make(chan struct{})}
}

// liquidateAll sends every account's liquidation at once, each on its own
// goroutine (a venue that does not answer holds none but its own), and
// returns; answered is closed when the last answer is in.
func (r *killRun) liquidateAll(ctx context.Context, d *Desk, scope []*account) {
	r.left.Store(int64(len(scope)))
	if len(scope) == 0 {
		r.t1 = d.wall.Now()
		close(r.answered)
		return
	}
	one := func(i int, a *account) {
		err, chased, held := d.liquidate(ctx, a, r.k.trigger)
		r.errs[i], r.chased[i] = err, chased
		switch {
		case err != nil:
			r.state[i].Store(liqRefused)
		case held:
			r.state[i].Store(liqHeld)
		default:
			r.state[i].Store(liqAnswered)
		}
		if r.left.Add(-1) == 0 {
			r.t1 = d.wall.Now()
			close(r.answered)
		}
	}
	for i, a := range scope {
		go one(i, a)
	}
}

// answer is the flatten's answer as it stands.
func (r *killRun) answer() deskapi.FlattenAnswer {
	fa := deskapi.FlattenAnswer{Scope: r.k.scope.String(), Trigger: string(r.k.trigger), Accounts: len(r.ids)}
	for i, id := range r.ids {
		switch r.state[i].Load() {
		case liqSent:
			fa.Unconfirmed = append(fa.Unconfirmed, id)
		case liqRefused:
			fa.Refused = append(fa.Refused, id)
		case liqHeld:
			fa.Held = append(fa.Held, id)
		}
	}
	return fa
}

// progress is the kill for Status; flat says whether an account's books
// show it flat with nothing working.
func (r *killRun) progress(flat func(id string) bool) *deskapi.KillProgress {
	p := &deskapi.KillProgress{Scope: r.k.scope.String(), Trigger: string(r.k.trigger), Who: r.k.who,
		Started: time.Unix(0, r.at).UTC().Format(time.RFC3339), Answered: true}
	for i, id := range r.ids {
		ka := deskapi.KillAccount{ID: id, Liquidation: "sent", Flat: flat(id)}
		switch r.state[i].Load() {
		case liqSent:
			p.Answered = false
		case liqAnswered:
			ka.Liquidation = "answered"
		case liqRefused:
			ka.Liquidation = "refused"
		case liqHeld:
			ka.Liquidation = "held: the broker is liquidating"
		}
		p.Accounts = append(p.Accounts, ka)
	}
	return p
}

// Flatten is Kill for the surfaces (deskapi.Desk): account "" is the desk.
// It returns once every liquidation is answered, or Options.KillAnswerWait
// has passed (the kill goes on); FlattenAnswered says which.
func (d *Desk) Flatten(ctx context.Context, account, trigger, who string) error {
	_, err := d.FlattenAnswered(ctx, account, trigger, who)
	return err
}

// FlattenAnswered implements deskapi.AnsweringDesk: the kill, answered
// once it is complete — the venue has answered every liquidation and the
// state machines have moved — or, when the venue has not answered within
// Options.KillAnswerWait, once the machines have moved without it (the
// kill goes on), with the accounts the venue has not yet confirmed.
func (d *Desk) FlattenAnswered(ctx context.Context, account, trigger, who string) (deskapi.FlattenAnswer, error) {
	run, err := d.startKill(ctx, killOrder{scope: scopeOf(account), trigger: Trigger(trigger), who: who})
	if err != nil {
		return deskapi.FlattenAnswer{}, err
	}
	bound := d.wall.NewTimer(d.opt.KillAnswerWait)
	select {
	case <-run.done:
	case <-bound.C():
		<-run.moved
	}
	bound.Stop()
	return run.answer(), nil
}

// FlattenReport is Flatten with timings (benchmarks, the drill): it waits
// for the whole kill.
func (d *Desk) FlattenReport(ctx context.Context, account, trigger, who string) (KillReport, error) {
	return d.Kill(ctx, scopeOf(account), Trigger(trigger), who)
}

// Kills returns the timing of every kill so far.
func (d *Desk) Kills() []KillReport {
	d.killMu.Lock()
	defer d.killMu.Unlock()
	return append([]KillReport(nil), d.kills...)
}

// answerWatch is the watch on one liquidate request.
type answerWatch struct {
	d     *Desk
	state atomic.Int32 // 0 waiting, 1 late (the bound passed), 2 answered in time
	timer market.Timer
}

// watchAnswer starts the watch on a liquidate request about to be sent for
// account; its answered must be called when the venue answers.
func (d *Desk) watchAnswer(account string) *answerWatch {
	w := &answerWatch{d: d}
	w.timer = d.wall.AfterFunc(d.opt.VenueAnswerBound, func() {
		if w.state.CompareAndSwap(0, 1) && d.lateAnswers.Add(1) == 1 {
			d.LinkHealth("venue", false, "a liquidation for "+account+" unanswered for "+d.opt.VenueAnswerBound.String()+": the venue is not answering")
		}
	})
	return w
}

// answered ends the watch: a request answered after the bound brings the
// venue link back once no other is late.
func (w *answerWatch) answered() {
	w.timer.Stop()
	if w.state.CompareAndSwap(0, 2) {
		return
	}
	if w.d.lateAnswers.Add(-1) == 0 {
		w.d.LinkHealth("venue", true, "the venue answered the late liquidation")
	}
}
