package workerhost

// worker.go: the child side of a strategy worker (`deskguard worker`). It
// reads frames on stdin, runs the account's engines through an EngineHost
// and writes intents and heartbeats on stdout. Logs go to stderr, which the
// supervisor tags with the account id.
//
// For the fault drills, DESKGUARD_WORKER_FAULT=KIND@N makes the worker
// misbehave after N trades: panic, hang, garbage, flood or exit.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// EngineHost runs an account's engines: the same code in a worker process
// and in the in-process replay host.
type EngineHost interface {
	OnTrade(t market.Trade) []intent.Intent
	OnFill(f wire.FillMsg) []intent.Intent
	OnOrderDone(d wire.OrderDoneMsg) []intent.Intent
	OnPosition(p wire.PositionMsg)
}

// EngineBuilder builds an account's EngineHost from its Hello frame.
type EngineBuilder func(h wire.HelloMsg) (EngineHost, error)

// Fault is an injected misbehaviour for drills and tests.
type Fault struct {
	Kind  string // panic, hang, garbage, flood, exit
	After int64  // trades seen before it strikes
}

// ParseFault parses DESKGUARD_WORKER_FAULT ("" = none).
func ParseFault(s string) (*Fault, error) {
	if s == "" {
		return nil, nil
	}
	kind, n, ok := strings.Cut(s, "@")
	after, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || after < 0 {
		return nil, fmt.Errorf("worker: fault %q: want KIND@N", s)
	}
	switch kind {
	case "panic", "hang", "garbage", "flood", "exit":
	default:
		return nil, fmt.Errorf("worker: fault %q: unknown kind %q", s, kind)
	}
	return &Fault{Kind: kind, After: after}, nil
}

// RunWorker is the worker's main loop. It returns nil on a Bye frame or a
// clean end of input.
func RunWorker(in io.Reader, out io.Writer, build EngineBuilder, fault *Fault, log *slog.Logger) error {
	r := wire.NewReader(in)
	w := wire.NewWriter(out)
	var host EngineHost
	var seen int64
	halted := false
	var trades []market.Trade
	send := func(ins []intent.Intent) error {
		for i := range ins {
			if halted && (ins[i].Kind == intent.Enter || ins[i].Kind == intent.Add) {
				continue // halted: propose nothing that adds risk (the gate refuses it anyway)
			}
			if err := w.WriteJSON(wire.IntentFrame, wire.IntentMsg{Intent: ins[i]}); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		t, p, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		if host == nil && t != wire.Hello {
			return fmt.Errorf("worker: %s frame before hello", t)
		}
		switch t {
		case wire.Hello:
			var h wire.HelloMsg
			if err := unmarshalStrict(p, &h); err != nil {
				return fmt.Errorf("worker: hello: %w", err)
			}
			if host, err = build(h); err != nil {
				return fmt.Errorf("worker: build engines for %s: %w", h.Account, err)
			}
			log.Info("worker ready", "account", h.Account, "strategies", h.Strategies, "restart", h.Restart)
		case wire.Ticks:
			trades, err = wire.DecodeTicks(trades[:0], p)
			if err != nil {
				return fmt.Errorf("worker: %w", err)
			}
			for _, tr := range trades {
				seen++
				if fault != nil && seen > fault.After {
					if err := strike(fault, w, out); err != nil {
						return err
					}
				}
				if err := send(host.OnTrade(tr)); err != nil {
					return err
				}
			}
		case wire.Fill:
			var f wire.FillMsg
			if err := unmarshalStrict(p, &f); err != nil {
				return fmt.Errorf("worker: fill: %w", err)
			}
			if err := send(host.OnFill(f)); err != nil {
				return err
			}
		case wire.OrderDone, wire.Decision:
			var d wire.OrderDoneMsg
			if t == wire.Decision {
				var dm wire.DecisionMsg
				if err := unmarshalStrict(p, &dm); err != nil {
					return fmt.Errorf("worker: decision: %w", err)
				}
				if dm.Allowed {
					break
				}
				d = wire.OrderDoneMsg{ClientID: dm.ClientID, Strategy: dm.Strategy, Reason: dm.Reason}
			} else if err := unmarshalStrict(p, &d); err != nil {
				return fmt.Errorf("worker: order done: %w", err)
			}
			if err := send(host.OnOrderDone(d)); err != nil {
				return err
			}
		case wire.Position:
			var m wire.PositionMsg
			if err := unmarshalStrict(p, &m); err != nil {
				return fmt.Errorf("worker: position: %w", err)
			}
			host.OnPosition(m)
		case wire.Halt:
			halted = true
		case wire.Resume:
			halted = false
		case wire.Ping:
			var m wire.PingMsg
			if err := unmarshalStrict(p, &m); err != nil {
				return fmt.Errorf("worker: ping: %w", err)
			}
			if err := w.WriteJSON(wire.Pong, m); err != nil {
				return err
			}
		case wire.Bye:
			return w.Flush()
		default:
			return fmt.Errorf("worker: unexpected %s frame", t)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("worker: write: %w", err)
		}
	}
}

// strike carries out an injected fault.
func strike(f *Fault, w *wire.Writer, out io.Writer) error {
	switch f.Kind {
	case "panic":
		panic("injected worker panic")
	case "hang":
		for { // stop answering anything, like SIGSTOP
			time.Sleep(time.Hour)
		}
	case "garbage":
		_ = w.Flush()
		_, _ = out.Write([]byte{0xff, 0xff, 0xff, 0xff, 0xde, 0xad})
		return errors.New("worker: injected garbage")
	case "flood":
		for i := 0; i < 100000; i++ {
			in := intent.Intent{Kind: intent.Enter, Strategy: "flood", Side: market.Buy, Qty: 1,
				EntryType: market.MarketOrder, Reason: "injected flood"}
			if err := w.WriteJSON(wire.IntentFrame, wire.IntentMsg{Intent: in}); err != nil {
				return err
			}
		}
		return w.Flush()
	case "exit":
		os.Exit(3)
	}
	return nil
}
