package outbox

// link.go: the desk's live link to the firm — firm kill commands in
// (request/reply on core NATS, ed25519-signed, stale and replayed ones
// refused), the desk's heartbeat out, the firm's heartbeat watched. A firm
// kill is one more kill trigger: deskapi.Desk.Flatten(ctx, "", "firm", who),
// the same call a console kill makes, on its own goroutine; the reply goes
// back once the desk is flat (or after FlatTimeout, saying it is not yet).
// Losing the link never flattens or halts the desk: it can only raise the
// reduce-only hook, when configured.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// Trigger is the kill trigger a firm kill is journaled with.
const Trigger = "firm"

// Appender journals what the link did (*journal.Journal).
type Appender interface {
	Append(ctx context.Context, rec journal.Record) (uint64, error)
}

// LinkOptions configure a desk's Link.
type LinkOptions struct {
	Desk     string
	Conn     *nats.Conn
	Target   deskapi.Desk   // the desk: Flatten and Status
	Verifier *wire.Verifier // the firm's public key; nil refuses every command
	Outbox   *Outbox        // for the heartbeat's progress (may be nil)
	Journal  Appender       // firm commands, accepted or refused, are journaled (may be nil)
	Clock    market.Clock   // wall clock (command ages, link timing); default market.WallClock
	Log      *slog.Logger

	BeatEvery   time.Duration // the desk's heartbeat (default 1s)
	FlatTimeout time.Duration // a kill's reply waits this long for flat (default 10s)
	// FirmTimeout: no firm heartbeat for this long and the firm link is
	// down (default 5s).
	FirmTimeout time.Duration
	// ReduceOnlyAfter: the firm link down this long turns the reduce-only
	// hook on (0: never — the default). It goes off when the link is back.
	ReduceOnlyAfter time.Duration
	// OnReduceOnly is the hook (the desk's gate refuses risk-adding intents
	// while it is on). Called from the link's own goroutine.
	OnReduceOnly func(on bool)
	// StartReduceOnly: the hook is on at start (the desk restored it from
	// its journal: it had lost the firm before it restarted). It stays on
	// until the firm is heard, then goes off through OnReduceOnly; with
	// ReduceOnlyAfter 0 (the hook configured off) it goes off at the first
	// check. Without it a restarted desk that still cannot hear the firm
	// would take entries for FirmTimeout+ReduceOnlyAfter.
	StartReduceOnly bool
}

// Link is a desk's firm link. Start it with StartLink; it stops with ctx.
type Link struct {
	opt LinkOptions
	log *slog.Logger

	heard      atomic.Int64 // wall ns of the last firm heartbeat (0: never)
	started    time.Time
	reduceOnly atomic.Bool
	linkUp     atomic.Bool

	mu    sync.Mutex
	kills map[string]bool // kill ids acted on
	wg    sync.WaitGroup
}

// StartLink subscribes to the desk's command subject and the firm's
// heartbeat and starts the heartbeat and link-watch loops.
func StartLink(ctx context.Context, opt LinkOptions) (*Link, error) {
	if !wire.ValidDesk(opt.Desk) || opt.Conn == nil || opt.Target == nil {
		return nil, errors.New("outbox: link needs a valid desk name, a NATS connection and the desk")
	}
	if opt.Clock == nil {
		opt.Clock = market.WallClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.BeatEvery <= 0 {
		opt.BeatEvery = time.Second
	}
	if opt.FlatTimeout <= 0 {
		opt.FlatTimeout = 10 * time.Second
	}
	if opt.FirmTimeout <= 0 {
		opt.FirmTimeout = 5 * time.Second
	}
	l := &Link{opt: opt, log: opt.Log, started: opt.Clock.Now(), kills: map[string]bool{}}
	l.reduceOnly.Store(opt.StartReduceOnly)
	cmdSub, err := opt.Conn.Subscribe(wire.CommandSubject(opt.Desk), func(m *nats.Msg) {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.handle(ctx, m)
		}()
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: subscribe %s: %w", wire.CommandSubject(opt.Desk), err)
	}
	hbSub, err := opt.Conn.Subscribe(wire.FirmHeartbeat, func(m *nats.Msg) {
		var b wire.FirmBeat
		if json.Unmarshal(m.Data, &b) == nil {
			l.heard.Store(opt.Clock.Now().UnixNano())
		}
	})
	if err != nil {
		_ = cmdSub.Unsubscribe()
		return nil, fmt.Errorf("outbox: subscribe %s: %w", wire.FirmHeartbeat, err)
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer cmdSub.Unsubscribe()
		defer hbSub.Unsubscribe()
		l.loop(ctx)
	}()
	return l, nil
}

// Wait returns once the link's goroutines have ended (after ctx ends).
func (l *Link) Wait() { l.wg.Wait() }

// FirmLink reports whether the desk hears the firm, and since when it has
// not (zero when it does).
func (l *Link) FirmLink() (up bool, downSince time.Time) {
	if l.linkUp.Load() {
		return true, time.Time{}
	}
	if h := l.heard.Load(); h != 0 {
		return false, time.Unix(0, h)
	}
	return false, l.started
}

// ReduceOnly reports whether the link has turned the reduce-only hook on.
func (l *Link) ReduceOnly() bool { return l.reduceOnly.Load() }

// loop sends the heartbeat and watches the firm's.
func (l *Link) loop(ctx context.Context) {
	watch := min(l.opt.BeatEvery, 250*time.Millisecond)
	beat := time.NewTicker(l.opt.BeatEvery)
	check := time.NewTicker(watch)
	defer beat.Stop()
	defer check.Stop()
	l.beat(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			l.beat(ctx)
		case <-check.C:
			l.checkLink()
		}
	}
}

// checkLink updates the firm link state and the reduce-only hook.
func (l *Link) checkLink() {
	now := l.opt.Clock.Now()
	last := l.started
	if h := l.heard.Load(); h != 0 {
		last = time.Unix(0, h)
	}
	quiet := now.Sub(last)
	up := l.heard.Load() != 0 && quiet <= l.opt.FirmTimeout
	if was := l.linkUp.Swap(up); was != up {
		if up {
			l.log.Info("firm link up")
		} else {
			l.log.Warn("firm link lost: the desk trades on; its own kill path is unchanged", "quiet", quiet.Round(time.Millisecond))
		}
	}
	want := false
	if !up && l.opt.ReduceOnlyAfter > 0 {
		// On once the firm has been quiet that long; once on (or on at
		// start, StartReduceOnly), on until the firm is heard again.
		want = l.reduceOnly.Load() || quiet >= l.opt.FirmTimeout+l.opt.ReduceOnlyAfter
	}
	if l.reduceOnly.Swap(want) != want {
		l.log.Warn("firm link: reduce-only", "on", want)
		if l.opt.OnReduceOnly != nil {
			l.opt.OnReduceOnly(want)
		}
	}
}

func (l *Link) beat(ctx context.Context) {
	st := l.opt.Target.Status(ctx)
	b := wire.DeskBeat{Desk: l.opt.Desk, Time: l.opt.Clock.Now().UnixNano(), State: st.State, Version: 1,
		LastPrice: int64(math.Round(st.LastPrice * market.TicksPerPoint)), Points: st.LastPrice,
		FirmLink: l.linkUp.Load(), ReduceOn: l.reduceOnly.Load()}
	if o := l.opt.Outbox; o != nil {
		b.Journal, b.Committed, b.Published = o.Epoch(), o.Committed(), o.Published()
	}
	_ = l.opt.Conn.Publish(wire.DeskHeartbeat(l.opt.Desk), wire.Marshal(b))
}

// handle answers one firm command.
func (l *Link) handle(ctx context.Context, m *nats.Msg) {
	now := l.opt.Clock.Now()
	var c wire.Command
	err := json.Unmarshal(m.Data, &c)
	if err != nil {
		err = fmt.Errorf("%w: %v", wire.ErrBadCommand, err)
	} else if l.opt.Verifier == nil {
		err = fmt.Errorf("%w: this desk has no firm command key configured", wire.ErrBadSignature)
	} else {
		err = l.opt.Verifier.Check(c, now)
	}
	rep := wire.Reply{Desk: l.opt.Desk, CmdID: c.ID, KillID: c.KillID}
	if err != nil {
		l.log.Warn("firm command refused", "id", c.ID, "kill", c.KillID, "err", err)
		l.record(ctx, c, false, err.Error())
		rep.Error, rep.Time = err.Error(), l.opt.Clock.Now().UnixNano()
		_ = m.Respond(wire.Marshal(rep))
		return
	}
	l.mu.Lock()
	repeat := l.kills[c.KillID]
	l.kills[c.KillID] = true
	l.mu.Unlock()
	rep.OK, rep.Repeat = true, repeat
	var from uint64 // the journal before the kill: its halted transition comes after
	if src := l.source(); src != nil {
		from, _ = src.Committed()
	}
	// The command is journaled on its own goroutine while the desk
	// flattens: a kill is a kill, never held back by that record, and the
	// record's commit shares the flatten's instead of adding one more
	// after it to the reply. The reply still waits for it, so a desk that
	// answers has journaled the command.
	recorded := make(chan struct{})
	if repeat {
		close(recorded)
	} else {
		go func() {
			defer close(recorded)
			l.record(ctx, c, true, "kill "+c.KillID)
		}()
	}
	// A first kill goes straight to Flatten; only a repeat looks first
	// (a desk already flat for this kill is not flattened again).
	again := !repeat
	if repeat {
		flat, _, _ := isFlat(l.opt.Target.Status(ctx))
		again = !flat
	}
	if again {
		who := "firm:" + c.Who
		l.log.Warn("firm kill", "kill", c.KillID, "who", c.Who, "reason", c.Reason, "repeat", repeat)
		if err := l.opt.Target.Flatten(ctx, "", Trigger, who); err != nil {
			rep.OK, rep.Error = false, err.Error()
		}
	}
	rep.Flat, rep.State, rep.Open, rep.Working = l.waitFlat(ctx, from)
	<-recorded
	rep.Time = l.opt.Clock.Now().UnixNano()
	_ = m.Respond(wire.Marshal(rep))
}

// source is the desk's journal, when the link has the outbox's.
func (l *Link) source() Source {
	if l.opt.Outbox != nil {
		return l.opt.Outbox.opt.Journal
	}
	return nil
}

// waitFlat waits (up to FlatTimeout) until the desk is halted with every
// account flat and nothing working. With the desk's journal it waits for
// the desk's transition to halted journaled after from (the desk reaches
// halted only once every account is flat), then confirms with one Status;
// without it, it reads the desk's Status every few milliseconds. It holds
// nothing the kill needs either way.
func (l *Link) waitFlat(ctx context.Context, from uint64) (flat bool, state string, open int64, working int) {
	deadline := time.NewTimer(l.opt.FlatTimeout)
	defer deadline.Stop()
	check := func() bool {
		st := l.opt.Target.Status(ctx)
		flat, open, working = isFlat(st)
		state = st.State
		return flat
	}
	src := l.source()
	if src == nil {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for !check() {
			select {
			case <-ctx.Done():
				return
			case <-deadline.C:
				return
			case <-t.C:
			}
		}
		return
	}
	f := src.Follow()
	defer f.Close()
	if check() {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			check()
			return
		case <-f.C:
		}
		halted := false
		last, err := src.ReadRawAfter(from, 0, func(seq uint64, kind journal.Kind, raw []byte) error {
			if kind != journal.KindTransition {
				return nil
			}
			r, err := journal.DecodeValue(seq, raw)
			if err != nil {
				return err
			}
			if t, err := r.Transition(); err == nil && t.Machine == "desk" && t.To == "halted" {
				halted = true
			}
			return nil
		})
		if err == nil {
			from = last
		}
		if (halted || err != nil) && check() {
			return
		}
	}
}

// isFlat: the desk halted, every account at zero, nothing working.
func isFlat(st deskapi.Status) (bool, int64, int) {
	var open int64
	working := 0
	for _, a := range st.Accounts {
		open += max(a.Position, -a.Position)
		working += len(a.Orders)
	}
	return st.State == "halted" && open == 0 && working == 0, open, working
}

// record journals a firm command (source "firm") when a journal is set.
func (l *Link) record(ctx context.Context, c wire.Command, allowed bool, detail string) {
	if l.opt.Journal == nil {
		return
	}
	d := fmt.Sprintf("%s (id %s, kill %s, reason %q)", detail, c.ID, c.KillID, c.Reason)
	_, _ = l.opt.Journal.Append(context.WithoutCancel(ctx), journal.NewCommand("", 0,
		journal.Command{Who: "firm:" + c.Who, Source: "firm", Command: c.Op, Allowed: allowed, Detail: d}))
}
