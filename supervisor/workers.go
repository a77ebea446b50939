package supervisor

// workers.go: the desk's side of its engine hosts (package workerhost) —
// what a (re)started worker is told, the events workers report (intents,
// crashes, a crash loop), and the barrier lockstep replays use. The halt
// state reaches a worker on its own lane (ProcHost.SetHalted), never
// behind the tick frames.

import (
	"context"
	"fmt"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/supervisor/wire"
	"github.com/deskguard/deskguard/supervisor/workerhost"
)

func (d *Desk) hello(a *account, restart int) wire.HelloMsg {
	cfg, _ := jsonMarshal(d.opt.Engines)
	return wire.HelloMsg{Account: a.id, Strategies: a.spec.Config.Strategies, Config: cfg, Restart: restart}
}

// syncFrames re-sends an account's position to a restarted worker (its
// halt state follows from the host itself).
func (a *account) syncFrames() []workerhost.Frame {
	a.mu.Lock()
	pos := wire.PositionMsg{Qty: a.ledger.Position(), AvgPrice: a.ledger.AvgEntryTick()}
	a.mu.Unlock()
	p, _ := jsonMarshal(pos)
	return []workerhost.Frame{{T: wire.Position, P: p}}
}

// tellWorker tells an account's worker whether it may propose entries:
// only while the account trades and no kill is in force. It never waits.
func (a *account) tellWorker() {
	if p := a.proc(); p != nil {
		p.SetHalted(a.stopsRisk() || a.m.State() != AcctTrading)
	}
}

func (a *account) setWorker(state string) {
	a.mu.Lock()
	a.worker = state
	a.mu.Unlock()
}

// SyncWorkers is a barrier over every worker process (ProcHost.Sync): when
// it returns nil, every intent the workers proposed for the frames sent so
// far is waiting in WorkerEvents. In-process it does nothing.
func (d *Desk) SyncWorkers(ctx context.Context) error {
	type pending struct {
		a      *account
		p      *workerhost.ProcHost
		n, gen uint64
	}
	var ps []pending
	for _, a := range d.accts {
		p := a.proc()
		if p == nil || !p.Unsynced() {
			continue // nothing sent since the last barrier
		}
		n, gen, err := p.SyncSend()
		if err != nil {
			return fmt.Errorf("supervisor: sync %s: %w", a.id, err)
		}
		ps = append(ps, pending{a, p, n, gen})
	}
	for _, x := range ps {
		if err := x.p.SyncWait(ctx, x.n, x.gen); err != nil {
			return fmt.Errorf("supervisor: sync %s: %w", x.a.id, err)
		}
	}
	return nil
}

// WorkersReady waits until every worker process is running.
func (d *Desk) WorkersReady(ctx context.Context) error {
	for _, a := range d.accts {
		p := a.proc()
		if p == nil {
			continue
		}
		if err := p.Ready(ctx); err != nil {
			return fmt.Errorf("supervisor: worker %s: %w", a.id, err)
		}
	}
	return nil
}

// WorkerEvents is the stream a live driver must drain (Processes mode).
func (d *Desk) WorkerEvents() <-chan workerhost.WorkerEvent { return d.events }

// HandleWorkerEvent applies one event from a worker process.
func (d *Desk) HandleWorkerEvent(ctx context.Context, ev workerhost.WorkerEvent) {
	a := d.byID[ev.Account]
	if a == nil {
		return
	}
	switch ev.Kind {
	case workerhost.WorkerIntent:
		d.HandleIntent(ctx, ev.Intent)
	case workerhost.WorkerStarted:
		a.setWorker("running")
		if ev.Restart > 0 {
			a.mu.Lock()
			a.nRestarts++
			a.mu.Unlock()
			d.alerts.Notify(alert.WorkerRestart(d.clock.Now(), a.id, ev.Restart, 0))
		}
	case workerhost.WorkerCrashed:
		a.setWorker("restarting")
		d.journal(ctx, journal.NewWorker(a.id, d.nowNs(), journal.Worker{Event: "crashed", Err: errString(ev.Err), Restart: ev.Restart}))
		d.alerts.Notify(alert.WorkerCrash(d.clock.Now(), a.id, errString(ev.Err)))
	case workerhost.WorkerFaulted:
		a.setWorker("faulted")
		d.journal(ctx, journal.NewWorker(a.id, d.nowNs(), journal.Worker{Event: "faulted", Err: errString(ev.Err)}))
		d.faultAccount(ctx, a, TriggerCrashLoop, "worker crash loop: "+errString(ev.Err))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
