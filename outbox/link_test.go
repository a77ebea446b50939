// link_test.go: the desk's side of the firm link on a real NATS server with
// a fake desk: a signed firm kill flattens the desk with trigger "firm" and
// is answered when flat (and its command journaled; the journal record
// never holds the flatten back); a forged, stale, replayed or misaddressed command
// is refused and flattens nothing; a lost firm link never flattens or
// halts the desk, and turns the reduce-only hook on only when configured.

package outbox_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/firm/natstest"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/outbox"
)

const waitFor = 30 * time.Second

func within(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	tk := time.NewTicker(2 * time.Millisecond)
	defer tk.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", waitFor, what)
		}
		<-tk.C
	}
}

// fakeDesk is a desk with one account holding a position until Flatten.
type fakeDesk struct {
	mu       sync.Mutex
	flattens []string // trigger/who of each Flatten
	state    string
	pos      int64
}

func (f *fakeDesk) Status(context.Context) deskapi.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return deskapi.Status{State: f.state, LastPrice: 5100.25, Accounts: []deskapi.AccountStatus{{ID: "A1", Position: f.pos}}}
}
func (f *fakeDesk) Flatten(_ context.Context, account, trigger, who string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flattens = append(f.flattens, account+"|"+trigger+"|"+who)
	f.state, f.pos = "halted", 0
	return nil
}
func (f *fakeDesk) Rearm(context.Context, string, string) error              { return nil }
func (f *fakeDesk) Unlock(context.Context, string, string, string) error     { return nil }
func (f *fakeDesk) ClearFault(context.Context, string, string, string) error { return nil }
func (f *fakeDesk) ResetTrailing(context.Context, string, string, string) error {
	return nil
}
func (f *fakeDesk) SetEngines(context.Context, string, bool, string) error { return nil }
func (f *fakeDesk) Press(context.Context, string) error                    { return nil }

func (f *fakeDesk) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.flattens...)
}

type recJournal struct {
	mu   sync.Mutex
	recs []journal.Command
}

func (r *recJournal) Append(_ context.Context, rec journal.Record) (uint64, error) {
	c, err := rec.Command()
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	r.recs = append(r.recs, c)
	r.mu.Unlock()
	return 1, nil
}

func startServer(t *testing.T) *natstest.Server {
	t.Helper()
	s, err := natstest.Start(filepath.Join(t.TempDir(), "js"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func dial(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := outbox.Connect(url, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func request(t *testing.T, nc *nats.Conn, desk string, data []byte) wire.Reply {
	t.Helper()
	m, err := nc.Request(wire.CommandSubject(desk), data, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	var r wire.Reply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFirmKillCommand(t *testing.T) {
	srv := startServer(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, forger, _ := ed25519.GenerateKey(rand.Reader)
	desk := &fakeDesk{state: "running", pos: 3}
	jr := &recJournal{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := outbox.StartLink(ctx, outbox.LinkOptions{Desk: "east", Conn: dial(t, srv.URL()), Target: desk, Journal: jr,
		Verifier: &wire.Verifier{Desk: "east", Key: pub, MaxAge: 5 * time.Second}, FlatTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); l.Wait() }()
	firm := dial(t, srv.URL())
	cmd := func(id string, issued time.Time, key ed25519.PrivateKey, deskName string) []byte {
		c := wire.Command{ID: id, KillID: "kill-1", Desk: deskName, Op: wire.OpKill, Who: "risk", Reason: "test", Issued: issued.UnixNano()}
		c.Sign(key)
		return wire.Marshal(c)
	}
	// Refused: forged, stale, for another desk — none flattens.
	for name, data := range map[string][]byte{
		"forged":     cmd("f1", time.Now(), forger, "east"),
		"stale":      cmd("f2", time.Now().Add(-time.Minute), priv, "east"),
		"other desk": cmd("f3", time.Now(), priv, "west"),
		"not json":   []byte("kill everything"),
		"unsigned":   []byte(`{"id":"f4","kill_id":"k","desk":"east","op":"kill","issued":1}`),
	} {
		// "other desk" is sent to east's subject: a desk acts only on its own name.
		if r := request(t, firm, "east", data); r.OK || r.Error == "" {
			t.Errorf("%s: accepted: %+v", name, r)
		}
	}
	if c := desk.calls(); len(c) != 0 {
		t.Fatalf("a refused command flattened the desk: %v", c)
	}
	good := cmd("c1", time.Now(), priv, "east")
	r := request(t, firm, "east", good)
	if !r.OK || !r.Flat || r.KillID != "kill-1" || r.Repeat {
		t.Fatalf("kill reply %+v", r)
	}
	if c := desk.calls(); len(c) != 1 || c[0] != "|firm|firm:risk" {
		t.Fatalf("flatten calls %v, want one desk kill with trigger firm by firm:risk", c)
	}
	// The same message again (a replay) is refused.
	if r := request(t, firm, "east", good); r.OK || !strings.Contains(r.Error, "replayed") {
		t.Fatalf("replay: %+v", r)
	}
	// A re-issue of the same kill (new id) to a desk already flat: ok, flat,
	// repeat, and no second flatten.
	if r := request(t, firm, "east", cmd("c2", time.Now(), priv, "east")); !r.OK || !r.Flat || !r.Repeat {
		t.Fatalf("re-issue: %+v", r)
	}
	if c := desk.calls(); len(c) != 1 {
		t.Fatalf("flatten calls %v after a re-issue to a flat desk", c)
	}
	jr.mu.Lock()
	defer jr.mu.Unlock()
	allowed, refused := 0, 0
	for _, c := range jr.recs {
		if c.Source != "firm" {
			t.Errorf("journaled command source %q", c.Source)
		}
		if c.Allowed {
			allowed++
		} else {
			refused++
		}
	}
	if allowed != 1 || refused != 6 {
		t.Fatalf("journaled %d allowed and %d refused commands, want 1 and 6: %+v", allowed, refused, jr.recs)
	}
}

// The firm link lost: never a flatten or a halt; reduce-only only when
// configured, and off again when the firm is heard.
func TestLinkLossNeverFlattens(t *testing.T) {
	srv := startServer(t)
	for _, tc := range []struct {
		name  string
		after time.Duration
	}{{"default off", 0}, {"reduce-only after 100ms", 100 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			desk := &fakeDesk{state: "running", pos: 2}
			var mu sync.Mutex
			var hooks []bool
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			l, err := outbox.StartLink(ctx, outbox.LinkOptions{Desk: "east", Conn: dial(t, srv.URL()), Target: desk,
				BeatEvery: 10 * time.Millisecond, FirmTimeout: 50 * time.Millisecond, ReduceOnlyAfter: tc.after,
				OnReduceOnly: func(on bool) { mu.Lock(); hooks = append(hooks, on); mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); l.Wait() }()
			firm := dial(t, srv.URL())
			beating := make(chan struct{})
			stopBeat := make(chan struct{})
			go func() {
				defer close(beating)
				tk := time.NewTicker(5 * time.Millisecond)
				defer tk.Stop()
				for {
					select {
					case <-stopBeat:
						return
					case <-tk.C:
						_ = firm.Publish(wire.FirmHeartbeat, wire.Marshal(wire.FirmBeat{Time: time.Now().UnixNano(), Name: "firm"}))
					}
				}
			}()
			within(t, "the firm link up", func() bool { up, _ := l.FirmLink(); return up })
			close(stopBeat)
			<-beating
			within(t, "the firm link lost", func() bool { up, _ := l.FirmLink(); return !up })
			if tc.after > 0 {
				within(t, "reduce-only on", l.ReduceOnly)
			}
			if c := desk.calls(); len(c) != 0 {
				t.Fatalf("the lost firm link flattened the desk: %v", c)
			}
			if st := desk.Status(context.Background()); st.State != "running" || st.Accounts[0].Position != 2 {
				t.Fatalf("desk after the link loss: %+v", st)
			}
			_ = firm.Publish(wire.FirmHeartbeat, wire.Marshal(wire.FirmBeat{Time: time.Now().UnixNano(), Name: "firm"}))
			within(t, "the firm link back", func() bool { up, _ := l.FirmLink(); return up })
			within(t, "reduce-only off", func() bool { return !l.ReduceOnly() })
			mu.Lock()
			defer mu.Unlock()
			if tc.after == 0 && len(hooks) != 0 || tc.after > 0 && (len(hooks) != 2 || !hooks[0] || hooks[1]) {
				t.Fatalf("reduce-only hook calls %v", hooks)
			}
		})
	}
}

// gatedJournal is a journal whose appends wait until open is closed (a
// disk that is slow to answer).
type gatedJournal struct {
	recJournal
	open    chan struct{}
	waiting chan struct{} // closed when the first append is waiting
	once    sync.Once
}

func (g *gatedJournal) Append(ctx context.Context, rec journal.Record) (uint64, error) {
	g.once.Do(func() { close(g.waiting) })
	<-g.open
	return g.recJournal.Append(ctx, rec)
}

// A firm kill is not held back by the journal record of its command (the
// desk flattens while the record waits for the disk), and the desk
// answers only once the record is journaled.
func TestFirmKillNotHeldBackByItsRecord(t *testing.T) {
	srv := startServer(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	desk := &fakeDesk{state: "running", pos: 3}
	jr := &gatedJournal{open: make(chan struct{}), waiting: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := outbox.StartLink(ctx, outbox.LinkOptions{Desk: "east", Conn: dial(t, srv.URL()), Target: desk, Journal: jr,
		Verifier: &wire.Verifier{Desk: "east", Key: pub, MaxAge: 5 * time.Second}, FlatTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var release sync.Once
	open := func() { release.Do(func() { close(jr.open) }) }
	defer func() { open(); cancel(); l.Wait() }() // a failure above leaves no append waiting
	c := wire.Command{ID: "c1", KillID: "kill-1", Desk: "east", Op: wire.OpKill, Who: "risk", Reason: "test", Issued: time.Now().UnixNano()}
	c.Sign(priv)
	type answer struct {
		r   wire.Reply
		err error
	}
	replies := make(chan answer, 1)
	firm := dial(t, srv.URL())
	go func() {
		var a answer
		m, err := firm.Request(wire.CommandSubject("east"), wire.Marshal(c), waitFor)
		if a.err = err; err == nil {
			a.err = json.Unmarshal(m.Data, &a.r)
		}
		replies <- a
	}()
	<-jr.waiting
	within(t, "the desk flattened while its command's record waits", func() bool { return len(desk.calls()) == 1 })
	select {
	case a := <-replies:
		t.Fatalf("the desk answered (%+v, %v) before its command was journaled", a.r, a.err)
	default:
	}
	open()
	if a := <-replies; a.err != nil || !a.r.OK || !a.r.Flat {
		t.Fatalf("kill reply %+v, %v", a.r, a.err)
	}
	jr.mu.Lock()
	defer jr.mu.Unlock()
	if len(jr.recs) != 1 || !jr.recs[0].Allowed || jr.recs[0].Source != "firm" {
		t.Fatalf("journaled %+v, want the one allowed firm command", jr.recs)
	}
}

// A link started reduce-only (the desk restored it after a restart while
// the firm was lost) stays reduce-only while the firm is silent, however
// short the silence so far, and goes off once the firm is heard; with the
// hook configured off it goes off at the first check.
func TestLinkStartsReduceOnly(t *testing.T) {
	srv := startServer(t)
	for _, tc := range []struct {
		name  string
		after time.Duration
	}{{"configured", time.Hour}, {"configured off", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			desk := &fakeDesk{state: "running", pos: 2}
			var mu sync.Mutex
			var hooks []bool
			got := func() []bool { mu.Lock(); defer mu.Unlock(); return append([]bool(nil), hooks...) }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			nc := dial(t, srv.URL())
			beats, err := nc.SubscribeSync(wire.DeskHeartbeat("east"))
			if err != nil {
				t.Fatal(err)
			}
			l, err := outbox.StartLink(ctx, outbox.LinkOptions{Desk: "east", Conn: nc, Target: desk,
				BeatEvery: 5 * time.Millisecond, FirmTimeout: 50 * time.Millisecond, ReduceOnlyAfter: tc.after, StartReduceOnly: true,
				OnReduceOnly: func(on bool) { mu.Lock(); hooks = append(hooks, on); mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); l.Wait() }()
			if tc.after == 0 {
				within(t, "reduce-only off at the first check", func() bool { return !l.ReduceOnly() })
				if h := got(); len(h) != 1 || h[0] {
					t.Fatalf("hook calls %v, want [false]", h)
				}
				return
			}
			// The beat and the check share the link's loop and period: 20
			// beats, and the check has run many times with the firm silent.
			for i := 0; i < 20; i++ {
				if _, err := beats.NextMsg(waitFor); err != nil {
					t.Fatal(err)
				}
			}
			if !l.ReduceOnly() || len(got()) != 0 {
				t.Fatalf("reduce-only %v, hook calls %v with the firm still silent: want on, none", l.ReduceOnly(), got())
			}
			firm := dial(t, srv.URL())
			_ = firm.Publish(wire.FirmHeartbeat, wire.Marshal(wire.FirmBeat{Time: time.Now().UnixNano(), Name: "firm"}))
			within(t, "reduce-only off once the firm is heard", func() bool { return !l.ReduceOnly() })
			if h := got(); len(h) != 1 || h[0] {
				t.Fatalf("hook calls %v, want [false]", h)
			}
		})
	}
}
