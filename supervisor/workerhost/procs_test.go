package workerhost

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// TestMain lets this test binary serve as a worker child process: with
// DESKGUARD_TEST_WORKER set it runs RunWorker with an echo engine, or with
// DESKGUARD_TEST_WORKER=engines the real engines (NewRunnerHost).
func TestMain(m *testing.M) {
	if os.Getenv("DESKGUARD_TEST_WORKER") != "" {
		fault, err := ParseFault(os.Getenv("DESKGUARD_WORKER_FAULT"))
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(2)
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		build := func(h wire.HelloMsg) (EngineHost, error) { return &echoEngine{account: h.Account}, nil }
		if os.Getenv("DESKGUARD_TEST_WORKER") == "engines" {
			build = NewRunnerHost // the real engines, as `deskguard worker` runs them
		}
		if err := RunWorker(os.Stdin, os.Stdout, build, fault, log); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// echoEngine proposes an exit and an entry on every 10th trade, so tests
// can see intents flow (and the entries stop while the worker is halted).
type echoEngine struct {
	account string
	n       int
}

func (e *echoEngine) OnTrade(t market.Trade) []intent.Intent {
	e.n++
	if e.n%10 != 0 {
		return nil
	}
	return []intent.Intent{{Kind: intent.Exit, Strategy: "echo", Time: t.Time, Reason: "echo"},
		{Kind: intent.Enter, Strategy: "echo", Time: t.Time, Side: market.Buy, Qty: 1, Reason: "echo entry"}}
}
func (e *echoEngine) OnFill(wire.FillMsg) []intent.Intent           { return nil }
func (e *echoEngine) OnOrderDone(wire.OrderDoneMsg) []intent.Intent { return nil }
func (e *echoEngine) OnPosition(wire.PositionMsg)                   {}

func testProcConfig(fault string) ProcConfig {
	exe, _ := os.Executable()
	env := []string{"DESKGUARD_TEST_WORKER=1"}
	if fault != "" {
		env = append(env, "DESKGUARD_WORKER_FAULT="+fault)
	}
	return ProcConfig{Exe: exe, Args: []string{"-test.run=^$"}, Env: env,
		HeartbeatEvery: 50 * time.Millisecond, HeartbeatTimeout: 400 * time.Millisecond,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond, CrashLoop: 3, CrashWindow: time.Minute}
}

func startHost(t *testing.T, cfg ProcConfig) (*ProcHost, chan WorkerEvent, context.CancelFunc) {
	t.Helper()
	events := make(chan WorkerEvent, 1024)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := NewProcHost("A1", cfg, func(r int) wire.HelloMsg { return wire.HelloMsg{Account: "A1", Restart: r} }, nil, events, log, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go h.Run(ctx)
	t.Cleanup(func() { cancel(); <-h.Done() })
	return h, events, cancel
}

// waitFor returns the first event of kind k within d, failing otherwise.
func waitFor(t *testing.T, ch <-chan WorkerEvent, k WorkerEventKind, d time.Duration) WorkerEvent {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == k {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", k, d)
		}
	}
}

func sendTrades(h *ProcHost, n int) {
	ts := make([]market.Trade, n)
	for i := range ts {
		ts[i] = market.Trade{Time: int64(i + 1), Price: 20600, Size: 1, Aggressor: market.Buy, Seq: uint64(i)}
	}
	h.Send(wire.Ticks, wire.AppendTicks(nil, ts))
}

func TestWorkerIntentsFlow(t *testing.T) {
	h, ev, _ := startHost(t, testProcConfig(""))
	waitFor(t, ev, WorkerStarted, 10*time.Second)
	sendTrades(h, 30)
	for i := 0; i < 6; i++ {
		got := waitFor(t, ev, WorkerIntent, 10*time.Second)
		if want := []intent.Kind{intent.Exit, intent.Enter}[i%2]; got.Intent.Account != "A1" || got.Intent.Kind != want {
			t.Fatalf("intent %d: %+v, want %s", i, got.Intent, want)
		}
	}
}

// intentsUntilSync sends n trades, waits for the worker's answers (a
// barrier) and counts the intents by kind.
func intentsUntilSync(t *testing.T, h *ProcHost, ev <-chan WorkerEvent, n int) map[intent.Kind]int {
	t.Helper()
	sendTrades(h, n)
	if err := h.Sync(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := map[intent.Kind]int{}
	for {
		select {
		case e := <-ev:
			if e.Kind == WorkerIntent {
				got[e.Intent.Kind]++
			}
		default:
			return got
		}
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestSetHaltedReachesTheWorker: SetHalted(true) stops the worker's
// entries (its exits go on), SetHalted(false) lets them through again, and
// a worker restarted while halted is told so right after its hello.
func TestSetHaltedReachesTheWorker(t *testing.T) {
	h, ev, _ := startHost(t, testProcConfig(""))
	waitFor(t, ev, WorkerStarted, 10*time.Second)
	if got := intentsUntilSync(t, h, ev, 20); got[intent.Enter] != 2 || got[intent.Exit] != 2 {
		t.Fatalf("running: %v, want 2 entries and 2 exits", got)
	}
	h.SetHalted(true)
	if got := intentsUntilSync(t, h, ev, 20); got[intent.Enter] != 0 || got[intent.Exit] != 2 {
		t.Fatalf("halted: %v, want exits only", got)
	}
	pid := h.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ev, WorkerStarted, 10*time.Second)
	if got := intentsUntilSync(t, h, ev, 20); got[intent.Enter] != 0 || got[intent.Exit] != 2 {
		t.Fatalf("restarted while halted: %v, want exits only", got)
	}
	h.SetHalted(false)
	if got := intentsUntilSync(t, h, ev, 20); got[intent.Enter] != 2 {
		t.Fatalf("resumed: %v, want 2 entries", got)
	}
}

func TestWorkerKilledIsRestarted(t *testing.T) {
	h, ev, _ := startHost(t, testProcConfig(""))
	waitFor(t, ev, WorkerStarted, 10*time.Second)
	pid := h.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ev, WorkerCrashed, 10*time.Second)
	st := waitFor(t, ev, WorkerStarted, 10*time.Second)
	if st.Restart != 1 || h.PID() == pid {
		t.Fatalf("restart %d pid %d (was %d)", st.Restart, h.PID(), pid)
	}
	sendTrades(h, 10)
	waitFor(t, ev, WorkerIntent, 10*time.Second)
}

func TestHungWorkerIsKilled(t *testing.T) {
	h, ev, _ := startHost(t, testProcConfig(""))
	waitFor(t, ev, WorkerStarted, 10*time.Second)
	pid := h.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	c := waitFor(t, ev, WorkerCrashed, 10*time.Second)
	if !strings.Contains(c.Err.Error(), "heartbeat") {
		t.Fatalf("crash reason %v, want missed heartbeats", c.Err)
	}
	waitFor(t, ev, WorkerStarted, 10*time.Second)
}

func TestMisbehavingWorkers(t *testing.T) {
	for _, tc := range []struct{ fault, reason string }{
		{"panic@5", "exit"},
		{"garbage@5", "garbage"},
		{"hang@5", "heartbeat"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			cfg := testProcConfig(tc.fault)
			cfg.CrashLoop = 100
			h, ev, _ := startHost(t, cfg)
			waitFor(t, ev, WorkerStarted, 10*time.Second)
			sendTrades(h, 10)
			c := waitFor(t, ev, WorkerCrashed, 10*time.Second)
			if !strings.Contains(c.Err.Error(), tc.reason) {
				t.Fatalf("crash reason %v, want %q", c.Err, tc.reason)
			}
			waitFor(t, ev, WorkerStarted, 10*time.Second)
		})
	}
}

func TestCrashLoopFaults(t *testing.T) {
	cfg := testProcConfig("exit@0")
	h, ev, _ := startHost(t, cfg)
	for i := 0; i < cfg.CrashLoop; i++ {
		waitFor(t, ev, WorkerStarted, 10*time.Second)
		sendTrades(h, 1)
		waitFor(t, ev, WorkerCrashed, 10*time.Second)
	}
	f := waitFor(t, ev, WorkerFaulted, 10*time.Second)
	if !strings.Contains(f.Err.Error(), "crash loop") {
		t.Fatalf("fault %v", f.Err)
	}
	select {
	case <-h.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("host still running after a crash loop")
	}
}

func TestParseFault(t *testing.T) {
	for _, s := range []string{"panic", "boom@1", "hang@-1", "hang@x"} {
		if _, err := ParseFault(s); err == nil {
			t.Errorf("ParseFault(%q) accepted", s)
		}
	}
	f, err := ParseFault("flood@7")
	if err != nil || f.Kind != "flood" || f.After != 7 {
		t.Fatalf("%+v %v", f, err)
	}
}
