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
	"github.com/deskguard/deskguard/supervisor/workerhost"
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
	if err := c.w.WriteJSON(wire.Hello, benchHello()); err != nil {
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
	// The shadow runs the same engines in this process on the same trades
	// (they see nothing but trades here, so they decide exactly as the
	// worker does): it names the ticks that produce an intent before they
	// are sent, so that each of them can be sent alone and timed.
	shadow, err := workerhost.NewRunnerHost(benchHello())
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
	fail := func(err error) (Figure, error) {
		c.close()
		floorEcho.close()
		return Figure{}, err
	}
	every := pick(opt.Short, 10, 50)     // one timed tick per this many trades
	maxTrades := pick(opt.Short, 200, 0) // 0 = the whole session
	var samples, floor, intentLat, intentFloor []float64
	var intents, predicted, trades int
	batch := make([]market.Trade, 0, 1000)
	flush := func() error { // the untimed stretch
		if len(batch) == 0 {
			return nil
		}
		n, _, err := c.roundTrip(batch)
		intents += n
		batch = batch[:0]
		return err
	}
	timed := func(t market.Trade) (el, toFirst float64, n int, err error) {
		start := time.Now()
		n, first, err := c.roundTrip([]market.Trade{t})
		el = float64(time.Since(start)) / float64(time.Microsecond)
		if n > 0 {
			toFirst = float64(first.Sub(start)) / float64(time.Microsecond)
		}
		intents += n
		return el, toFirst, n, err
	}
	for {
		// --short stops after maxTrades, or after the first intent tick if
		// none came by then (every figure must be present).
		if opt.Short && trades >= maxTrades && len(intentLat) > 0 {
			break
		}
		t, err := feed.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		trades++
		if k := len(shadow.OnTrade(t)); k > 0 {
			predicted += k
			if err := flush(); err != nil {
				return fail(err)
			}
			_, toFirst, n, err := timed(t)
			if err != nil {
				return fail(err)
			}
			if n == 0 {
				return fail(fmt.Errorf("trade %d: the in-process engines proposed an intent, the worker did not", trades))
			}
			intentLat = append(intentLat, toFirst)
			fl, err := floorEcho.roundTrip() // the floor, under the same conditions
			if err != nil {
				return fail(err)
			}
			intentFloor = append(intentFloor, fl)
			continue
		}
		if maxTrades > 0 && trades > maxTrades {
			batch = append(batch, t) // --short, past the timed stretch: on to the first intent
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return fail(err)
				}
			}
			continue
		}
		if trades%every != 0 {
			batch = append(batch, t)
			continue
		}
		if err := flush(); err != nil {
			return fail(err)
		}
		el, _, _, err := timed(t)
		if err != nil {
			return fail(err)
		}
		samples = append(samples, el)
		fl, err := floorEcho.roundTrip()
		if err != nil {
			return fail(err)
		}
		floor = append(floor, fl)
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	if intents != predicted {
		return fail(fmt.Errorf("the worker proposed %d intents, the same engines in-process %d", intents, predicted))
	}
	if err := c.close(); err != nil {
		floorEcho.close()
		return Figure{}, fmt.Errorf("worker exit: %w", err)
	}
	if err := floorEcho.close(); err != nil {
		return Figure{}, fmt.Errorf("echo child: %w", err)
	}
	f := figure("µs", samples, floor, false)
	f.What = fmt.Sprintf("one trade frame + barrier ping to a `%s` child running orb, vwapmr and delta, until its answer "+
		"(intents, then pong) is read; every %dth trade timed, %d ticks of %d (the ticks that produce an intent are timed apart: %s)",
		workerName(opt), every, len(samples), trades, TickToFirstIntent)
	f.Floor = floorEcho.how
	f.Note = fmt.Sprintf("the engines proposed %d intents over the %d trades", intents, trades)
	fi := figure("µs", intentLat, intentFloor, false)
	fi.What = fmt.Sprintf("each tick that produces an intent (%d of %d trades; named beforehand by the same engines run in-process "+
		"on the same trades), sent alone to the `%s` child: frame written → first intent frame read", len(intentLat), trades, workerName(opt))
	fi.Floor = floorEcho.how
	fi.Note = fmt.Sprintf("%d samples, so p99 is their maximum", len(intentLat))
	f.also = map[string]Figure{TickToFirstIntent: fi}
	return f, nil
}

// benchHello is the hello the bench's worker gets (and its shadow).
func benchHello() wire.HelloMsg {
	cfg, err := json.Marshal(strategies.DefaultConfig())
	if err != nil {
		panic(err) // a plain struct: cannot fail
	}
	return wire.HelloMsg{Account: "BENCH", Strategies: []string{"orb", "vwapmr", "delta"}, Config: cfg}
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
