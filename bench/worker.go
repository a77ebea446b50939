package bench

// worker.go: tick → intent through a real strategy worker process (the
// deskguard binary's `worker` command running the three engines): a tick
// frame and a barrier ping are written to the child's stdin and the
// worker's answer for that tick — its intents, then the pong — is read
// from its stdout. The session streams through the worker in order (the
// engines need it), untimed batches between the timed ticks. The floor is
// a raw pipe round trip through a child process that only echoes (cat):
// the same bytes, no framing, no engines.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor/wire"
)

type workerConn struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	w     *wire.Writer
	r     *wire.Reader
	pings uint64
}

func startWorker(ctx context.Context, opt Options) (*workerConn, error) {
	cmd := exec.CommandContext(ctx, opt.WorkerExe, opt.WorkerArgs...)
	cmd.Env = append(os.Environ(), opt.WorkerEnv...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %s: %w", opt.WorkerExe, err)
	}
	c := &workerConn{cmd: cmd, in: in, w: wire.NewWriter(in), r: wire.NewReader(out)}
	cfg, err := json.Marshal(strategies.DefaultConfig())
	if err != nil {
		c.close()
		return nil, err
	}
	if err := c.w.WriteJSON(wire.Hello, wire.HelloMsg{Account: "BENCH", Strategies: []string{"orb", "vwapmr", "delta"}, Config: cfg}); err != nil {
		c.close()
		return nil, err
	}
	if _, _, err := c.roundTrip(nil); err != nil {
		c.close()
		return nil, fmt.Errorf("worker hello: %w", err)
	}
	return c, nil
}

// roundTrip sends ts (if any) and a barrier ping and reads until its pong.
// It returns how many intents came back and when the first did.
func (c *workerConn) roundTrip(ts []market.Trade) (intents int, first time.Time, err error) {
	if len(ts) > 0 {
		if err := c.w.WriteTicks(ts); err != nil {
			return 0, first, err
		}
	}
	c.pings++
	if err := c.w.WriteJSON(wire.Ping, wire.PingMsg{N: c.pings}); err != nil {
		return 0, first, err
	}
	if err := c.w.Flush(); err != nil {
		return 0, first, err
	}
	for {
		t, p, err := c.r.Read()
		if err != nil {
			return intents, first, fmt.Errorf("worker answer: %w", err)
		}
		switch t {
		case wire.IntentFrame:
			if intents == 0 {
				first = time.Now()
			}
			intents++
		case wire.Pong:
			var m wire.PingMsg
			if err := json.Unmarshal(p, &m); err != nil {
				return intents, first, err
			}
			if m.N == c.pings {
				return intents, first, nil
			}
		}
	}
}

func (c *workerConn) close() error {
	_ = c.w.Write(wire.Bye, nil)
	_ = c.w.Flush()
	_ = c.in.Close()
	return c.cmd.Wait()
}

func benchTickToIntent(ctx context.Context, opt Options, _ string) (Figure, error) {
	feed, err := synth.NewReader(synth.Options{Seed: 1, Regime: synth.Mixed})
	if err != nil {
		return Figure{}, err
	}
	floorEcho, err := startEcho(ctx)
	if err != nil {
		return Figure{}, err
	}
	c, err := startWorker(ctx, opt)
	if err != nil {
		floorEcho.close()
		return Figure{}, err
	}
	var floor []float64
	every := pick(opt.Short, 10, 50)     // one timed tick per this many trades
	maxTrades := pick(opt.Short, 200, 0) // 0 = the whole session
	var samples, intentLat []float64
	var intents, trades int
	batch := make([]market.Trade, 0, every)
	for maxTrades == 0 || trades < maxTrades {
		t, err := feed.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.close()
			return Figure{}, err
		}
		trades++
		if len(batch) < every-1 {
			batch = append(batch, t)
			continue
		}
		n, _, err := c.roundTrip(batch) // the untimed stretch
		if err != nil {
			c.close()
			return Figure{}, err
		}
		intents += n
		batch = batch[:0]
		start := time.Now()
		n, first, err := c.roundTrip([]market.Trade{t})
		el := time.Since(start)
		if err != nil {
			c.close()
			return Figure{}, err
		}
		samples = append(samples, float64(el)/float64(time.Microsecond))
		fl, err := floorEcho.roundTrip() // the floor, under the same conditions
		if err != nil {
			c.close()
			return Figure{}, err
		}
		floor = append(floor, fl)
		if n > 0 {
			intentLat = append(intentLat, float64(first.Sub(start))/float64(time.Microsecond))
			intents += n
		}
	}
	if err := c.close(); err != nil {
		return Figure{}, fmt.Errorf("worker exit: %w", err)
	}
	if err := floorEcho.close(); err != nil {
		return Figure{}, fmt.Errorf("echo child: %w", err)
	}
	f := figure("µs", samples, floor, false)
	f.What = fmt.Sprintf("one trade frame + barrier ping to a `%s` child running orb, vwapmr and delta, until its answer "+
		"(intents, then pong) is read; every %dth trade of %d timed", workerName(opt), every, trades)
	f.Floor = floorEcho.how
	f.Note = fmt.Sprintf("the engines proposed %d intents over the session", intents)
	if len(intentLat) > 0 {
		p50, _ := quantiles(intentLat, false)
		f.Note += fmt.Sprintf("; %d of the timed ticks produced intents, tick → first intent p50 %.1f µs", len(intentLat), p50)
	}
	return f, nil
}

func workerName(opt Options) string {
	return strings.TrimSpace(filepath.Base(opt.WorkerExe) + " " + strings.Join(opt.WorkerArgs, " "))
}

// echo is the floor's child: a process that only echoes (cat) or, without
// cat, an in-process echo over two os.Pipes.
type echo struct {
	w        io.WriteCloser
	r        io.Reader
	wait     func() error
	how      string
	msg, got []byte
}

func startEcho(ctx context.Context) (*echo, error) {
	e := &echo{msg: make([]byte, 64), got: make([]byte, 64)}
	if cat, err := exec.LookPath("cat"); err == nil {
		cmd := exec.CommandContext(ctx, cat)
		if e.w, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
		if e.r, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		e.wait, e.how = cmd.Wait, "a 64-byte round trip through a child process's stdin/stdout pipes (cat), timed between the worker's ticks"
		return e, nil
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go func() { _, _ = io.Copy(outW, inR); outW.Close() }()
	e.w, e.r = inW, outR
	e.wait, e.how = func() error { return nil }, "a 64-byte round trip through two in-process pipes (no cat on this machine)"
	return e, nil
}

// roundTrip times one echo in µs.
func (e *echo) roundTrip() (float64, error) {
	e.msg[0]++
	t := time.Now()
	if _, err := e.w.Write(e.msg); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(e.r, e.got); err != nil {
		return 0, err
	}
	return float64(time.Since(t)) / float64(time.Microsecond), nil
}

func (e *echo) close() error {
	_ = e.w.Close()
	return e.wait()
}
