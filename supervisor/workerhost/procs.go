package workerhost

// procs.go: one account's strategy worker as a child process — start it,
// feed it frames, watch its heartbeats, SIGKILL it when it stops answering
// or writes garbage, restart it with exponential backoff, and report a
// crash loop. Nothing here can block the tick path or the kill path: Send
// never blocks (a worker that cannot keep up is treated as hung), and the
// halt state (SetHalted) travels on a lane of its own, ahead of the frame
// queue, taking no lock.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// ProcConfig configures worker processes.
type ProcConfig struct {
	Exe              string        // the deskguard binary; default os.Executable()
	Args             []string      // default ["worker"]
	Env              []string      // extra environment (tests inject faults through it)
	HeartbeatEvery   time.Duration // default 250ms
	HeartbeatTimeout time.Duration // default 2s
	BackoffMin       time.Duration // default 50ms
	BackoffMax       time.Duration // default 5s
	CrashLoop        int           // crashes within CrashWindow that fault the account; default 5
	CrashWindow      time.Duration // default 60s
	Queue            int           // frames queued for a worker before it counts as hung; default 4096
}

func (c *ProcConfig) defaults() {
	if c.Exe == "" {
		if exe, err := os.Executable(); err == nil {
			c.Exe = exe
		}
	}
	if c.Args == nil {
		c.Args = []string{"worker"}
	}
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = 250 * time.Millisecond
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 2 * time.Second
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = 50 * time.Millisecond
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 5 * time.Second
	}
	if c.CrashLoop <= 0 {
		c.CrashLoop = 5
	}
	if c.CrashWindow <= 0 {
		c.CrashWindow = time.Minute
	}
	if c.Queue <= 0 {
		c.Queue = 4096
	}
}

// WorkerEventKind says what a worker did.
type WorkerEventKind uint8

const (
	WorkerIntent  WorkerEventKind = iota + 1 // proposed an intent
	WorkerStarted                            // a (re)started process said hello back (first pong)
	WorkerCrashed                            // exited, was killed, or wrote garbage
	WorkerFaulted                            // crash loop: no more restarts
)

func (k WorkerEventKind) String() string {
	return [...]string{"", "intent", "started", "crashed", "faulted"}[k]
}

// WorkerEvent is reported by a worker host to the supervisor.
type WorkerEvent struct {
	Account string
	Kind    WorkerEventKind
	Intent  intent.Intent
	Err     error
	Restart int
}

// Frame is one frame for a worker.
type Frame struct {
	T wire.Type
	P []byte
}

// ProcHost runs one account's worker process.
type ProcHost struct {
	account string
	hello   func(restart int) wire.HelloMsg
	sync    func() []Frame // frames re-sent after every (re)start: the position
	cfg     ProcConfig
	log     *slog.Logger
	clock   market.Clock
	events  chan<- WorkerEvent

	// halted is the halt state the worker is told of; ctl wakes the
	// writer to tell it (SetHalted). Neither is behind the frame queue or
	// a lock: the kill path sets them.
	halted atomic.Bool
	ctl    chan struct{}

	mu      sync.Mutex
	queue   chan Frame // replaced on each start
	kill    func(why string)
	gen     uint64        // session number, bumped on each start and end
	syncN   uint64        // last barrier ping sent
	syncAck uint64        // last barrier pong received
	syncCh  chan struct{} // closed (and replaced) when syncAck or gen moves
	dropped atomic.Int64
	sent    atomic.Uint64 // frames queued by Send (barrier pings excluded)
	synced  uint64        // sent as of the last barrier (Synced's caller only)
	pid     atomic.Int64
	done    chan struct{}
}

// syncBit marks a barrier ping (Sync) apart from heartbeat pings.
const syncBit = uint64(1) << 63

// ErrWorkerGone is returned by Sync when the worker exited or was
// restarted before answering the barrier.
var ErrWorkerGone = errors.New("workerhost: worker gone before the barrier")

// Sync is a barrier: it queues a ping behind every frame already sent and
// waits for its pong. A worker answers frames in order and writes a frame's
// intents before reading the next, so when Sync returns every intent the
// worker proposed for the frames sent before it is in the events channel.
// Lockstep replays through worker processes and tests use it.
func (h *ProcHost) Sync(ctx context.Context) error {
	n, gen, err := h.SyncSend()
	if err != nil {
		return err
	}
	return h.SyncWait(ctx, n, gen)
}

// Unsynced reports whether frames were sent since the last call that
// returned true (the barrier of several hosts skips quiet ones); only one
// goroutine may call it.
func (h *ProcHost) Unsynced() bool {
	sent := h.sent.Load()
	if sent == h.synced {
		return false
	}
	h.synced = sent
	return true
}

// SyncSend is the first half of Sync (queue the barrier ping), so a
// caller can send the barriers of several hosts before waiting on any.
func (h *ProcHost) SyncSend() (n, gen uint64, err error) {
	h.mu.Lock()
	if h.queue == nil {
		h.mu.Unlock()
		return 0, 0, ErrWorkerGone
	}
	h.syncN++
	n, gen = h.syncN, h.gen
	h.mu.Unlock()
	p, _ := jsonMarshal(wire.PingMsg{N: syncBit | n})
	h.Send(wire.Ping, p)
	return n, gen, nil
}

// SyncWait is the second half of Sync.
func (h *ProcHost) SyncWait(ctx context.Context, n, gen uint64) error {
	for {
		h.mu.Lock()
		ack, g, ch := h.syncAck, h.gen, h.syncCh
		h.mu.Unlock()
		switch {
		case g != gen:
			return ErrWorkerGone
		case ack >= n:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-h.done:
			return ErrWorkerGone
		}
	}
}

// Ready waits until a worker process is running (its frames are no longer
// dropped).
func (h *ProcHost) Ready(ctx context.Context) error {
	for {
		h.mu.Lock()
		up, ch := h.queue != nil, h.syncCh
		if ch == nil {
			h.syncCh = make(chan struct{})
			ch = h.syncCh
		}
		h.mu.Unlock()
		if up {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-h.done:
			return ErrWorkerGone
		}
	}
}

// syncMoved wakes Sync waiters (h.mu held).
func (h *ProcHost) syncMoved() {
	if h.syncCh != nil {
		close(h.syncCh)
	}
	h.syncCh = make(chan struct{})
}

// NewProcHost prepares (does not start) a worker host. hello builds the
// Hello frame for each (re)start; sync returns the frames that re-send the
// account's state after a restart.
func NewProcHost(account string, cfg ProcConfig, hello func(restart int) wire.HelloMsg, sync func() []Frame,
	events chan<- WorkerEvent, log *slog.Logger, clock market.Clock) *ProcHost {
	cfg.defaults()
	if clock == nil {
		clock = market.WallClock{}
	}
	return &ProcHost{account: account, hello: hello, sync: sync, cfg: cfg, log: log.With("account", account),
		clock: clock, events: events, done: make(chan struct{}), ctl: make(chan struct{}, 1)}
}

// SetHalted tells the worker to stop proposing entries (true) or that it
// may again (false). It takes no lock and never waits: the state is
// stored and the writer woken on a lane of its own, so it overtakes every
// queued tick frame; a worker that reads nothing is simply not told (the
// desk refuses its intents by its own flags). A (re)started worker is told
// the state right after its hello.
func (h *ProcHost) SetHalted(halted bool) {
	h.halted.Store(halted)
	select {
	case h.ctl <- struct{}{}:
	default: // a wake-up is already pending; it reads the state then
	}
}

// Halted reports the halt state the worker is told of.
func (h *ProcHost) Halted() bool { return h.halted.Load() }

func (h *ProcHost) haltFrame() wire.Type {
	if h.halted.Load() {
		return wire.Halt
	}
	return wire.Resume
}

// Backlog is how many frames wait in the worker's queue (0 when no worker
// runs); at ProcConfig.Queue the next Send counts the worker as hung.
func (h *ProcHost) Backlog() int {
	h.mu.Lock()
	q := h.queue
	h.mu.Unlock()
	return len(q)
}

// PID returns the current child's process id (0 when none is running).
func (h *ProcHost) PID() int { return int(h.pid.Load()) }

// Done is closed when the host has stopped for good (context ended or fault).
func (h *ProcHost) Done() <-chan struct{} { return h.done }

// Send queues a frame for the worker without blocking. When the worker's
// queue is full the worker is not keeping up: it is killed (and restarted).
func (h *ProcHost) Send(t wire.Type, p []byte) {
	h.mu.Lock()
	q, kill := h.queue, h.kill
	h.mu.Unlock()
	if q == nil {
		h.dropped.Add(1)
		return
	}
	if t != wire.Ping {
		h.sent.Add(1)
	}
	select {
	case q <- Frame{t, p}:
	default:
		h.dropped.Add(1)
		if kill != nil {
			kill("queue full: worker not keeping up")
		}
	}
}

// Run starts the worker and keeps it running until ctx ends or it crash-loops.
func (h *ProcHost) Run(ctx context.Context) {
	defer close(h.done)
	var crashes []time.Time
	backoff := h.cfg.BackoffMin
	for restart := 0; ; restart++ {
		err := h.session(ctx, restart)
		if ctx.Err() != nil {
			return
		}
		now := h.clock.Now()
		crashes = append(crashes, now)
		for len(crashes) > 0 && now.Sub(crashes[0]) > h.cfg.CrashWindow {
			crashes = crashes[1:]
		}
		h.log.Warn("worker crashed", "err", err, "restart", restart, "crashes_in_window", len(crashes))
		h.emit(WorkerEvent{Account: h.account, Kind: WorkerCrashed, Err: err, Restart: restart})
		if len(crashes) >= h.cfg.CrashLoop {
			h.emit(WorkerEvent{Account: h.account, Kind: WorkerFaulted,
				Err: fmt.Errorf("crash loop: %d crashes within %s: last: %w", len(crashes), h.cfg.CrashWindow, err)})
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-h.clock.After(backoff):
		}
		backoff *= 2
		if backoff > h.cfg.BackoffMax {
			backoff = h.cfg.BackoffMax
		}
	}
}

func (h *ProcHost) emit(ev WorkerEvent) {
	// The supervisor drains events continuously; never drop an intent or a crash.
	h.events <- ev
}
