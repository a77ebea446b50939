package workerhost

// session.go: one child process from its start to its end — the pipes,
// the reader (intents and pongs), the writer (hello, the state, the halt
// lane, queued frames, heartbeats), and why it ended.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/deskguard/deskguard/supervisor/wire"
)

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
	queue := make(chan Frame, h.cfg.Queue)
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
				if err := w.Write(f.T, f.P); err != nil {
					return err
				}
			}
		}
		if err := w.WriteJSON(h.haltFrame(), struct{}{}); err != nil {
			return err
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
			// The halt lane first: a halt overtakes every queued frame.
			select {
			case <-h.ctl:
				if err := w.WriteJSON(h.haltFrame(), struct{}{}); err != nil {
					return err
				}
				if err := w.Flush(); err != nil {
					return err
				}
				continue
			default:
			}
			select {
			case <-h.ctl:
				if err := w.WriteJSON(h.haltFrame(), struct{}{}); err != nil {
					return err
				}
				if err := w.Flush(); err != nil {
					return err
				}
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
				if err := w.Write(f.T, f.P); err != nil {
					return err
				}
			drain:
				for {
					select {
					case <-h.ctl:
						// A halt while a burst is written goes next.
						if err := w.WriteJSON(h.haltFrame(), struct{}{}); err != nil {
							return err
						}
					case f := <-queue:
						if err := w.Write(f.T, f.P); err != nil {
							return err
						}
					default:
						break drain
					}
				}
				if err := w.Flush(); err != nil {
					return err
				}
			case <-tick.C():
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
