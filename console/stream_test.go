// stream_test.go: the status stream. One Status call per tick whatever the
// clients do; a client that never reads loses snapshots (and is dropped
// when it goes away) while the others keep receiving; an action pushes a
// fresh status at once; a trader's stream shows only its account.
package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/deskapi"
)

// manualTicker lets the test drive the snapshot loop tick by tick.
func manualTicker(cfg *console.Config) chan time.Time {
	ch := make(chan time.Time)
	console.SetTicker(cfg, func(time.Duration) (<-chan time.Time, func()) { return ch, func() {} })
	return ch
}

// events reads a stream's status events into a channel until the body ends.
func (e *env) events(ctx context.Context, bearer string) <-chan deskapi.Status {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.base+"/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("events: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	out := make(chan deskapi.Status, 1024)
	go func() {
		defer r.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "status":
				var st deskapi.Status
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &st); err != nil {
					panic(fmt.Sprintf("bad status event: %v", err)) // test goroutine; surfaces as a crash
				}
				out <- st
			}
		}
	}()
	return out
}

func next(t *testing.T, ch <-chan deskapi.Status) deskapi.Status {
	t.Helper()
	select {
	case st, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return st
	case <-time.After(10 * time.Second):
		t.Fatal("no status event within 10s")
	}
	return deskapi.Status{}
}

func TestStreamDeadClientDoesNotSlowOthers(t *testing.T) {
	cfg := console.Config{WriteTimeout: 30 * time.Second}
	tick := manualTicker(&cfg)
	added, removed := make(chan struct{}, 8), make(chan struct{}, 8)
	e := start(t, cfg, func(s *console.Server) {
		console.SetStreamHooks(s, func() { added <- struct{}{} }, func() { removed <- struct{}{} })
	})
	e.desk.SetJournalPad(1000) // ~100 kB a snapshot, so the dead client's socket fills

	// A client that subscribes and never reads, with a tiny receive window.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	dead, err := d.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(dead, "GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", tokViewer)
	<-added

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	good := e.events(ctx, tokManager)
	<-added
	first := next(t, good)
	callsAtStart := e.desk.StatusCalls()

	const ticks = 300
	lastTime := first.Time
	for i := 0; i < ticks; i++ {
		tick <- time.Time{}
		st := next(t, good)
		if st.Time == lastTime {
			t.Fatalf("tick %d: the live client got a stale snapshot", i)
		}
		lastTime = st.Time
	}
	if got := e.desk.StatusCalls() - callsAtStart; got != ticks {
		t.Errorf("desk.Status called %d times for %d ticks and 2 clients, want %d", got, ticks, ticks)
	}
	if got := console.SnapshotCalls(e.srv); got != e.desk.StatusCalls() {
		t.Errorf("snapshot loop made %d calls, desk saw %d: someone else called Status", got, e.desk.StatusCalls())
	}
	if console.StreamDrops(e.srv) == 0 {
		t.Error("the dead client never lost a snapshot: its queue is not bounded")
	}
	if n := console.StreamClients(e.srv); n != 2 {
		t.Errorf("%d clients, want 2", n)
	}
	dead.Close()
	<-removed
	if n := console.StreamClients(e.srv); n != 1 {
		t.Errorf("%d clients after the dead one left, want 1", n)
	}
	// The live client still gets every tick.
	tick <- time.Time{}
	next(t, good)
	cancel()
	<-removed
	if n := console.StreamClients(e.srv); n != 0 {
		t.Errorf("%d clients after all left, want 0", n)
	}
}

func TestStreamPushesAfterAction(t *testing.T) {
	cfg := console.Config{}
	_ = manualTicker(&cfg) // never ticks: only the action can cause the next event
	e := start(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := e.events(ctx, tokViewer)
	if st := next(t, ch); st.State != "running" {
		t.Fatalf("first event: desk %s", st.State)
	}
	if r := e.do(nil, "POST", "/api/flatten", tokManager, map[string]string{"account": ""}, nil); r.code != 200 {
		t.Fatalf("flatten: %d %s", r.code, r.body)
	}
	st := next(t, ch)
	if st.State != "halted" {
		t.Errorf("event after flatten: desk %s, want halted", st.State)
	}
	for _, a := range st.Accounts {
		if a.Position != 0 {
			t.Errorf("%s position %d after flatten", a.ID, a.Position)
		}
	}
}

func TestStreamFilteredForTrader(t *testing.T) {
	cfg := console.Config{}
	tick := manualTicker(&cfg)
	e := start(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mgr, tr := e.events(ctx, tokManager), e.events(ctx, tokTrader2)
	for i := 0; i < 3; i++ {
		if i > 0 {
			tick <- time.Time{}
		}
		m, s := next(t, mgr), next(t, tr)
		if len(m.Accounts) != 3 {
			t.Errorf("manager stream has %d accounts", len(m.Accounts))
		}
		if len(s.Accounts) != 1 || s.Accounts[0].ID != "ACC2" || s.Net != "" {
			t.Errorf("trader stream: accounts %v net %q", ids(s), s.Net)
		}
	}
}
