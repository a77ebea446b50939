package drill

// workers.go: the worker-fault scenario — real `deskguard worker` child
// processes (or the test binary standing in for one) killed, stopped,
// panicking, writing garbage, exiting or flooding intents, while the desk
// trades.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

// workerBatch trades go to the workers in one frame (a live feed batches
// the same way); the venue still matches them one by one.
const workerBatch = 25

var workerFaults = []string{"sigkill", "sigstop", "panic", "garbage", "exit", "flood", "hang"}

// stepBatch runs a batch of trades: the venue matches each, its events
// are applied, then the tick path sees the batch.
func (r *rig) stepBatch(ts []market.Trade) {
	for _, t := range ts {
		r.clock.Advance(t.Time)
		r.v.onTrade(t)
	}
	r.drain()
	r.d.OnTrades(r.ctx, ts)
	r.drain()
}

// childPIDs lists this process's child processes (the worker processes).
func childPIDs() []int {
	var out []int
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(s); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

func runWorkers(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	ts, err := sessionTrades(seed, o.Scale/4)
	if err != nil {
		return rd, err
	}
	body, tail := split(ts)
	rng := newRand(seed)
	kind := modeOf(seed, workerFaults)
	rd.mode = kind
	proc := o.Worker
	proc.Env = append([]string(nil), proc.Env...)
	proc.HeartbeatEvery, proc.HeartbeatTimeout = 50*time.Millisecond, 500*time.Millisecond
	proc.BackoffMin, proc.BackoffMax, proc.CrashLoop, proc.CrashWindow = 10*time.Millisecond, 100*time.Millisecond, 3, time.Minute
	signalAt := -1
	switch kind {
	case "sigkill", "sigstop":
		signalAt = len(body)/4 + rng.IntN(len(body)/2)
	default:
		proc.Env = append(proc.Env, fmt.Sprintf("DESKGUARD_WORKER_FAULT=%s@%d", kind, 200+rng.IntN(len(body)/2)))
	}
	r, err := newRig(ctx, rigOpt{Dir: dir, Log: o.Log, Start: time.Unix(0, ts[0].Time), Workers: supervisor.Processes, Proc: proc})
	if err != nil {
		return rd, err
	}
	c := newChecker(r)
	// Before the first worker fault (trade 200 on): a crash loop faults
	// accounts, and a faulted account takes no entry.
	r.allIn = &allIn{at: 50}
	ch := &chaos{rng: newRand(seed + 1), every: 1 + len(body)/100}
	var stopped []int
	for i := 0; i < len(body); i += workerBatch {
		if err := ctx.Err(); err != nil {
			r.close()
			return rd, err
		}
		b := body[i:min(i+workerBatch, len(body))]
		if signalAt >= i && signalAt < i+workerBatch {
			pids := childPIDs()
			if len(pids) == 0 {
				r.close()
				return rd, fmt.Errorf("no worker process to signal")
			}
			pid := pids[rng.IntN(len(pids))]
			sig := syscall.SIGKILL
			if kind == "sigstop" {
				sig = syscall.SIGSTOP
				stopped = append(stopped, pid)
			}
			if err := syscall.Kill(pid, sig); err == nil {
				rd.faults++
			}
		}
		for _, t := range b {
			ch.maybe(r, t)
		}
		for _, f := range ch.take() {
			c.violate(nil, "", "%s", f)
		}
		r.stepBatch(b)
		c.observe(r)
		if err := r.allIn.step(r, c, i, b[len(b)-1]); err != nil {
			r.close()
			return rd, err
		}
	}
	if kind != "sigkill" && kind != "sigstop" {
		// Every worker carries the fault: count the crashes the desk saw.
		for _, a := range r.d.Status(ctx).Accounts {
			if a.Worker != "running" || a.State == "faulted" {
				rd.faults++
			}
		}
		if rd.faults == 0 {
			rd.faults = len(r.ids) // struck and restarted before the end
		}
	}
	for _, pid := range stopped {
		_ = syscall.Kill(pid, syscall.SIGKILL) // the host killed it already; never leave one behind
	}
	for _, a := range r.d.Status(ctx).Accounts {
		if a.State == "faulted" && a.Position != 0 {
			c.violate(nil, "", "%s: faulted by its worker but still holds %d contracts", a.ID, a.Position)
		}
	}
	return rd, endRound(ctx, r, c, tail, &rd)
}
