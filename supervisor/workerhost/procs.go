package supervisor

// procs.go: one account's strategy worker as a child process — start it,
// feed it frames, watch its heartbeats, SIGKILL it when it stops answering
// or writes garbage, restart it with exponential backoff, and fault the
// account after a crash loop. Nothing here can block the tick path or the
// kill path: sends are non-blocking and a worker that cannot keep up is
// treated as hung.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/deskguard/deskguard/intent"
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

type outFrame struct {
	t wire.Type
	p []byte
}

// ProcHost runs one account's worker process.
type ProcHost struct {
	account string
	hello   func(restart int) wire.HelloMsg
	sync    func() []outFrame // frames re-sent after every (re)start: position, halt state
	cfg     ProcConfig
	log     *slog.Logger
	clock   clockwork.Clock
	events  chan<- WorkerEvent

	mu      sync.Mutex
	queue   chan outFrame // replaced on each start
	kill    func(why string)
	gen     uint64        // session number, bumped on each start and end
	syncN   uint64        // last barrier ping sent
	syncAck uint64        // last barrier pong received
	syncCh  chan struct{} // closed (and replaced) when syncAck or gen moves
	dropped atomic.Int64
	sent    atomic.Uint64 // frames queued by Send (barrier pings excluded)
	synced  uint64        // sent as of the last barrier (SyncWorkers' caller only)
	pid     atomic.Int64
	done    chan struct{}
}

// syncBit marks a barrier ping (Sync) apart from heartbeat pings.
const syncBit = uint64(1) << 63

// ErrWorkerGone is returned by Sync when the worker exited or was
// restarted before answering the barrier.
var ErrWorkerGone = errors.New("supervisor: worker gone before the barrier")

// Sync is a barrier: it queues a ping behind every frame already sent and
// waits for its pong. A worker answers frames in order and writes a frame's
// intents before reading the next, so when Sync returns every intent the
// worker proposed for the frames sent before it is in the events channel.
// Lockstep replays through worker processes and tests use it.
func (h *ProcHost) Sync(ctx context.Context) error {
	n, gen, err := h.syncSend()
	if err != nil {
		return err
	}
	return h.syncWait(ctx, n, gen)
}

func (h *ProcHost) syncSend() (n, gen uint64, err error) {
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

func (h *ProcHost) syncWait(ctx context.Context, n, gen uint64) error {
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
func NewProcHost(account string, cfg ProcConfig, hello func(restart int) wire.HelloMsg, sync func() []outFrame,
	events chan<- WorkerEvent, log *slog.Logger, clock clockwork.Clock) *ProcHost {
	cfg.defaults()
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &ProcHost{account: account, hello: hello, sync: sync, cfg: cfg, log: log.With("account", account),
		clock: clock, events: events, done: make(chan struct{})}
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
	case q <- outFrame{t, p}:
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

// session runs one child process to its end and says why it ended.
func (h *ProcHost) session(ctx context.Context, restart int) error {
	cmd := exec.Command(h.cfg.Exe, h.cfg.Args...)
	cmd.Env = append(os.Environ(), h.cfg.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // a dead supervisor leaves no orphans
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("worker %s: stdin: %w", h.account, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("worker %s: stdout: %w", h.account, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("worker %s: stderr: %w", h.account, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("worker %s: start: %w", h.account, err)
	}
	h.pid.Store(int64(cmd.Process.Pid))
	defer h.pid.Store(0)

	var once sync.Once
	var why atomic.Value
	killed := make(chan struct{})
	kill := func(reason string) {
		once.Do(func() {
			why.Store(reason)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			close(killed)
		})
	}
	queue := make(chan outFrame, h.cfg.Queue)
	h.mu.Lock()
	h.queue, h.kill = queue, kill
	h.gen++
	h.syncMoved()
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.queue, h.kill = nil, nil
		h.gen++
		h.syncMoved()
		h.mu.Unlock()
	}()

	// stderr → the supervisor's log, tagged with the account.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			h.log.Info("worker stderr", "line", sc.Text())
		}
	}()

	// stdout → intents and pongs.
	var lastPong atomic.Int64
	lastPong.Store(h.clock.Now().UnixNano())
	readDone := make(chan struct{})
	var readErr error
	go func() {
		defer close(readDone)
		defer wg.Done()
		r := wire.NewReader(stdout)
		started := false
		for {
			t, p, err := r.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					kill("garbage from worker: " + err.Error())
					_, _ = io.Copy(io.Discard, stdout)
				}
				readErr = err
				return
			}
			switch t {
			case wire.Pong:
				lastPong.Store(h.clock.Now().UnixNano())
				var m wire.PingMsg
				if err := unmarshalStrict(p, &m); err == nil && m.N&syncBit != 0 {
					h.mu.Lock()
					if n := m.N &^ syncBit; n > h.syncAck {
						h.syncAck = n
					}
					h.syncMoved()
					h.mu.Unlock()
				}
				if !started {
					started = true
					h.emit(WorkerEvent{Account: h.account, Kind: WorkerStarted, Restart: restart})
				}
			case wire.IntentFrame:
				var m wire.IntentMsg
				if err := unmarshalStrict(p, &m); err != nil {
					kill("bad intent frame: " + err.Error())
					continue
				}
				m.Intent.Account = h.account // a worker speaks only for its own account
				h.emit(WorkerEvent{Account: h.account, Kind: WorkerIntent, Intent: m.Intent})
			default:
				kill(fmt.Sprintf("unexpected %s frame from worker", t))
			}
		}
	}()

	// Writer: hello, state sync, then queued frames and heartbeats.
	w := wire.NewWriter(stdin)
	writeErr := func() error {
		if err := w.WriteJSON(wire.Hello, h.hello(restart)); err != nil {
			return err
		}
		if h.sync != nil {
			for _, f := range h.sync() {
				if err := w.Write(f.t, f.p); err != nil {
					return err
				}
			}
		}
		if err := w.WriteJSON(wire.Ping, wire.PingMsg{N: 0}); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		tick := h.clock.NewTicker(h.cfg.HeartbeatEvery)
		defer tick.Stop()
		var n uint64
		for {
			select {
			case <-ctx.Done():
				_ = w.WriteJSON(wire.Bye, struct{}{})
				_ = w.Flush()
				_ = stdin.Close()
				return ctx.Err()
			case <-killed:
				return errors.New("killed")
			case <-readDone:
				return fmt.Errorf("worker output ended: %v", readErr)
			case f := <-queue:
				if err := w.Write(f.t, f.p); err != nil {
					return err
				}
			drain:
				for {
					select {
					case f := <-queue:
						if err := w.Write(f.t, f.p); err != nil {
							return err
						}
					default:
						break drain
					}
				}
				if err := w.Flush(); err != nil {
					return err
				}
			case <-tick.Chan():
				if age := h.clock.Now().UnixNano() - lastPong.Load(); age > int64(h.cfg.HeartbeatTimeout) {
					kill(fmt.Sprintf("missed heartbeats for %s", time.Duration(age).Round(time.Millisecond)))
					return errors.New("heartbeat timeout")
				}
				n++
				if err := w.WriteJSON(wire.Ping, wire.PingMsg{N: n}); err != nil {
					return err
				}
				if err := w.Flush(); err != nil {
					return err
				}
			}
		}
	}()
	if ctx.Err() != nil {
		// Clean stop: give the worker a moment to leave on Bye, then make sure.
		select {
		case <-readDone:
		case <-h.clock.After(time.Second):
		}
		kill("supervisor stopping")
	} else if writeErr != nil {
		kill("write failed: " + writeErr.Error())
	}
	waitErr := cmd.Wait()
	wg.Wait()
	if r, ok := why.Load().(string); ok && ctx.Err() == nil {
		return fmt.Errorf("worker %s killed: %s (exit: %v)", h.account, r, waitErr)
	}
	if waitErr != nil {
		return fmt.Errorf("worker %s exited: %w", h.account, waitErr)
	}
	return fmt.Errorf("worker %s exited", h.account)
}
