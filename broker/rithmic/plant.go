// plant.go: one plant's connection and its life: dial, login (10/11) on
// its own WebSocket, heartbeats (18) at the interval the login returns,
// dead-peer detection, request/response correlation by user_msg with
// multi-part answers (rq_handler_rp_code … rp_code), snapshot requests
// whose answers are notifications flagged is_snapshot, rejects (75),
// forced logouts (77), and reconnect with backoff — after which the
// plant's setup (its subscriptions: they are lost with the connection)
// runs again. Requests are never resent by this layer: a request whose
// answer was lost with its connection fails with errSentLost and the
// caller decides (a new order is resent only when the order snapshot shows
// it absent).

package rithmic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
)

// ErrRejected wraps an error answer (rp_code other than 0) or a Reject
// (75) to a request.
var ErrRejected = errors.New("rithmic: request refused")

// ErrLogin wraps a refused login: credentials, system, plant.
var ErrLogin = errors.New("rithmic: login refused")

// errSentLost: the request was written but its connection ended before
// the answer: whether it was acted on is unknown.
var errSentLost = errors.New("rithmic: connection lost after the request was sent")

// RejectError is a refused request: the template and rp_code.
type RejectError struct {
	Template int32
	Code     []string
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("rithmic: template %d refused: %s", e.Template, strings.Join(e.Code, " "))
}

func (e *RejectError) Unwrap() error { return ErrRejected }

// Text is the refusal's text (rp_code after the code).
func (e *RejectError) Text() string {
	if len(e.Code) > 1 {
		return strings.Join(e.Code[1:], " ")
	}
	if len(e.Code) == 1 {
		return "code " + e.Code[0]
	}
	return "refused"
}

// call is one request waiting for its answer.
type call struct {
	tpl   int32
	parts []proto.Message
	done  chan struct{}
	err   error
}

// session is one logged-in connection.
type session struct {
	p       *plant
	ws      *websocket.Conn
	ctx     context.Context
	cancel  context.CancelFunc
	wmu     sync.Mutex
	lastIn  atomic.Int64
	hbEvery time.Duration
	fcm, ib string

	mu      sync.Mutex
	calls   map[string]*call
	snap    *[]proto.Message // collects is_snapshot notifications for the snapshot request in flight
	snapMu  sync.Mutex       // one snapshot request at a time
	ended   chan struct{}
	endErr  error
	forced  bool
	setUp   atomic.Bool // logged in and set up
	endOnce sync.Once
}

// plant keeps one plant logged in.
type plant struct {
	name  string
	infra rpb.InfraType
	cfg   Config
	creds Credentials
	opt   Options
	log   *slog.Logger
	// setup runs after each login (subscriptions, reconciliation); an
	// error ends the session. push receives every notification in arrival
	// order; raw, when set, sees every frame first and reports whether it
	// took it (the ticker plant's LastTrade fast path).
	setup func(ctx context.Context, s *session) error
	// ready, when set, runs once the session is the plant's current one
	// (after setup): what setup made true is then usable (the order plant's
	// reconciliation is counted here, so a waiter on it finds the plant up).
	ready func()
	push  func(tpl int32, m proto.Message)
	raw   func(p []byte) bool
	down  func()

	mu     sync.Mutex
	cond   *sync.Cond
	cur    *session // up: logged in and set up
	ups    int      // sessions set up so far
	closed bool
	first  chan error
	nid    atomic.Int64
	server atomic.Int64 // the server's latest time seen, ns (heartbeat answers)
}

func newPlant(name string, infra rpb.InfraType, cfg Config, creds Credentials, opt Options) *plant {
	p := &plant{name: name, infra: infra, cfg: cfg, creds: creds, opt: opt, log: opt.Log.With("plant", name), first: make(chan error, 1)}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// run keeps the plant logged in until ctx ends. The first session's
// outcome goes to p.first.
func (p *plant) run(ctx context.Context) {
	backoff := p.opt.Backoff
	signalled := false
	for ctx.Err() == nil {
		s, err := p.open(ctx)
		if err == nil {
			err = p.serve(ctx, s, func() {
				if !signalled {
					signalled = true
					p.first <- nil
				}
			})
		}
		if !signalled {
			signalled = true
			p.first <- err
			if errors.Is(err, ErrLogin) {
				return // wrong credentials or system: retrying will not help
			}
		}
		if ctx.Err() != nil {
			return
		}
		wasUp := s != nil && s.wasUp()
		forced := s != nil && s.forced
		switch {
		case forced:
			backoff = p.opt.MaxBackoff
		case wasUp:
			backoff = p.opt.Backoff
		}
		p.log.Warn("rithmic: plant down; reconnecting", "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = nextBackoff(backoff, forced, p.opt)
	}
}

// nextBackoff is the delay before the reconnect after this one. A forced
// logout waits the longest once (another session may have taken ours);
// the attempts after that wait start again from Backoff and double, as
// after any other failure. Staying at MaxBackoff after a forced logout made
// every later failed attempt (a setup request answered with a 75 "try
// again", a plant still down) cost MaxBackoff: three refusals left the
// order plant down 20 s (drill venue-faults-rithmic, seeds 25, 30 and 37).
func nextBackoff(cur time.Duration, forced bool, opt Options) time.Duration {
	if forced {
		return opt.Backoff
	}
	return min(cur*2, opt.MaxBackoff)
}

func (s *session) wasUp() bool { return s.setUp.Load() }

// open dials and logs in, reading the login answer directly (nothing else
// is running on the connection yet).
func (p *plant) open(ctx context.Context) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, p.opt.RequestTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, p.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("rithmic: %s plant: dial %s: %w", p.name, p.cfg.URL, err)
	}
	ws.SetReadLimit(rpb.MaxFrame + 4)
	sctx, scancel := context.WithCancel(ctx)
	s := &session{p: p, ws: ws, ctx: sctx, cancel: scancel, calls: map[string]*call{}, ended: make(chan struct{})}
	id := p.id()
	req := &rpb.RequestLogin{TemplateVersion: TemplateVersion, UserMsg: []string{id}, User: p.cfg.User, Password: p.creds.Password,
		AppName: p.cfg.AppName, AppVersion: p.cfg.AppVersion, SystemName: p.cfg.SystemName, InfraType: p.infra}
	if err := s.write(dctx, rpb.TLoginRequest, req); err != nil {
		s.end(err)
		return nil, err
	}
	var resp *rpb.ResponseLogin
	for resp == nil {
		msg, err := readMessage(dctx, ws, nil)
		if err != nil {
			s.end(err)
			return nil, fmt.Errorf("rithmic: %s plant: login: %w", p.name, err)
		}
		err = rpb.Frames(msg, func(b []byte) error {
			tpl, m, err := rpb.Decode(b)
			if err != nil {
				return err
			}
			switch r := m.(type) {
			case *rpb.ResponseLogin:
				resp = r
			case *rpb.Reject:
				return &RejectError{Template: rpb.TLoginRequest, Code: r.RpCode}
			case *rpb.ForcedLogout:
				return fmt.Errorf("forced logout (%d) during login", tpl)
			}
			return nil
		})
		if err != nil {
			s.end(err)
			return nil, fmt.Errorf("rithmic: %s plant: login: %w", p.name, err)
		}
	}
	if !rpb.RpCodeOK(resp.RpCode) {
		s.end(ErrLogin)
		return nil, fmt.Errorf("%w: %s plant: %s", ErrLogin, p.name, strings.Join(resp.RpCode, " "))
	}
	s.fcm, s.ib = resp.FcmId, resp.IbId
	s.hbEvery = time.Duration(resp.HeartbeatInterval * float64(time.Second))
	if s.hbEvery <= 0 {
		s.hbEvery = 30 * time.Second
	}
	s.lastIn.Store(time.Now().UnixNano())
	return s, nil
}

// serve runs a logged-in session: reader, heartbeats, setup; it returns
// when the session ends.
func (p *plant) serve(ctx context.Context, s *session, up func()) error {
	defer s.end(nil)
	go s.reader()
	go s.heartbeats()
	// Upon login a client is expected to send a heartbeat at once
	// (async_rithmic/plants/base.py, _login).
	if err := s.write(s.ctx, rpb.THeartbeatRequest, &rpb.RequestHeartbeat{}); err != nil {
		return err
	}
	if p.setup != nil {
		if err := p.setup(s.ctx, s); err != nil {
			s.end(err)
			<-s.ended
			return fmt.Errorf("rithmic: %s plant: setup: %w", p.name, err)
		}
	}
	s.setUp.Store(true)
	p.mu.Lock()
	p.cur = s
	p.ups++
	p.cond.Broadcast()
	p.mu.Unlock()
	p.log.Info("rithmic: plant up", "sessions", p.ups)
	if p.ready != nil {
		p.ready()
	}
	up()
	<-s.ended
	p.mu.Lock()
	if p.cur == s {
		p.cur = nil
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	if p.down != nil {
		p.down()
	}
	return s.endErr
}

func (p *plant) id() string { return p.name[:1] + strconv.FormatInt(p.nid.Add(1), 10) }

// session returns the current session, waiting up to the request timeout
// (or ctx) for one; wait false returns at once.
func (p *plant) session(ctx context.Context, wait bool) (*session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil || !wait {
		if p.cur == nil {
			return nil, fmt.Errorf("%w: %s plant is down", broker.ErrDisconnected, p.name)
		}
		return p.cur, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.opt.RequestTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	for p.cur == nil {
		if p.closed {
			return nil, fmt.Errorf("%w: closed", broker.ErrDisconnected)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s plant is down", broker.ErrDisconnected, p.name)
		}
		p.cond.Wait()
	}
	return p.cur, nil
}

// wait blocks until the plant is up (up true) or down, or ctx ends.
func (p *plant) wait(ctx context.Context, up bool) error {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for (p.cur != nil) != up {
		if p.closed {
			return fmt.Errorf("%w: closed", broker.ErrDisconnected)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("rithmic: waiting for the %s plant (up %v): %w", p.name, up, err)
		}
		p.cond.Wait()
	}
	return nil
}

// up reports whether the plant is logged in and set up.
func (p *plant) up() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur != nil
}

func (p *plant) close() {
	p.mu.Lock()
	p.closed = true
	s := p.cur
	p.cond.Broadcast()
	p.mu.Unlock()
	if s != nil {
		s.end(errors.New("closed"))
	}
}

// end closes the session once; pending calls fail.
func (s *session) end(err error) {
	s.endOnce.Do(func() {
		s.endErr = err
		if s.cancel != nil {
			s.cancel()
		}
		if s.ws != nil {
			s.ws.CloseNow()
		}
		s.mu.Lock()
		for id, c := range s.calls {
			c.err = fmt.Errorf("%w (%s plant): %v", errSentLost, s.p.name, err)
			close(c.done)
			delete(s.calls, id)
		}
		s.mu.Unlock()
		close(s.ended)
	})
}

func (s *session) write(ctx context.Context, tpl int32, m proto.Message) error {
	b, err := rpb.Frame(tpl, m)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		return fmt.Errorf("%w: %s plant: write template %d: %v", broker.ErrDisconnected, s.p.name, tpl, err)
	}
	return nil
}

func (s *session) heartbeats() {
	every := s.hbEvery / 2
	if every <= 0 {
		every = time.Second
	}
	dead := s.p.opt.DeadAfter
	if dead <= 0 {
		dead = max(2*s.hbEvery, time.Second)
	}
	t := time.NewTicker(min(every, dead/4))
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.ended:
			return
		case now := <-t.C:
			if now.Sub(time.Unix(0, s.lastIn.Load())) > dead {
				s.p.log.Warn("rithmic: plant silent; dropping the connection", "silent_for", now.Sub(time.Unix(0, s.lastIn.Load())).Round(time.Millisecond))
				s.end(fmt.Errorf("%w: %s plant silent for more than %s", broker.ErrDisconnected, s.p.name, dead))
				return
			}
			if now.Sub(last) >= every {
				last = now
				if err := s.write(s.ctx, rpb.THeartbeatRequest, &rpb.RequestHeartbeat{}); err != nil {
					s.end(err)
					return
				}
			}
		}
	}
}

// readMessage reads one WebSocket message into buf (reused) and returns it.
func readMessage(ctx context.Context, ws *websocket.Conn, buf []byte) ([]byte, error) {
	typ, r, err := ws.Reader(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageBinary {
		return nil, fmt.Errorf("%w: text message", rpb.ErrFrame)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (s *session) reader() {
	buf := make([]byte, 0, 4096)
	for {
		msg, err := readMessage(s.ctx, s.ws, buf)
		if err != nil {
			s.end(fmt.Errorf("%w: %s plant: read: %v", broker.ErrDisconnected, s.p.name, err))
			return
		}
		buf = msg[:0]
		s.lastIn.Store(time.Now().UnixNano())
		if err := rpb.Frames(msg, s.dispatch); err != nil {
			s.p.log.Warn("rithmic: bad frame from the server", "err", err)
		}
		if s.ctx.Err() != nil {
			return
		}
	}
}

// dispatch handles one frame from the server.
func (s *session) dispatch(b []byte) error {
	if s.p.raw != nil && s.p.raw(b) {
		return nil
	}
	tpl, m, err := rpb.Decode(b)
	if err != nil {
		s.p.log.Warn("rithmic: undecodable frame", "err", err)
		return nil
	}
	if m == nil {
		s.p.log.Debug("rithmic: unknown template skipped", "template", tpl)
		return nil
	}
	if hb, ok := m.(*rpb.ResponseHeartbeat); ok {
		if hb.Ssboe > 0 {
			s.p.server.Store(int64(hb.Ssboe)*1e9 + int64(hb.Usecs)*1e3)
		}
		if len(hb.UserMsg) == 0 {
			return nil
		}
	}
	switch r := m.(type) {
	case *rpb.ForcedLogout:
		s.p.log.Warn("rithmic: forced logout (77): another session may have taken this one")
		s.forced = true
		s.end(fmt.Errorf("%w: %s plant: forced logout", broker.ErrDisconnected, s.p.name))
		return nil
	case *rpb.Reject:
		if c := s.take(r.UserMsg); c != nil {
			c.err = &RejectError{Template: c.tpl, Code: r.RpCode}
			close(c.done)
			return nil
		}
		s.p.log.Warn("rithmic: reject (75)", "rp_code", strings.Join(r.RpCode, " "))
		return nil
	case rpb.Response:
		if um := r.GetUserMsg(); len(um) > 0 {
			s.mu.Lock()
			c := s.calls[um[0]]
			if c != nil {
				c.parts = append(c.parts, m)
				if rp := r.GetRpCode(); len(rp) > 0 {
					delete(s.calls, um[0])
					if !rpb.RpCodeOK(rp) {
						c.err = &RejectError{Template: c.tpl, Code: rp}
					}
					close(c.done)
				}
			}
			s.mu.Unlock()
			if c != nil {
				return nil
			}
		}
	}
	if snapshotOf(m) {
		s.mu.Lock()
		if s.snap != nil {
			*s.snap = append(*s.snap, m)
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
	}
	if s.p.push != nil {
		s.p.push(tpl, m)
	}
	return nil
}

func snapshotOf(m proto.Message) bool {
	switch n := m.(type) {
	case *rpb.ExchangeOrderNotification:
		return n.IsSnapshot
	case *rpb.RithmicOrderNotification:
		return n.IsSnapshot
	case *rpb.InstrumentPnLPositionUpdate:
		return n.IsSnapshot
	case *rpb.AccountPnLPositionUpdate:
		return n.IsSnapshot
	}
	return false
}

func (s *session) take(um []string) *call {
	if len(um) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[um[0]]
	delete(s.calls, um[0])
	return c
}

func setUserMsg(m proto.Message, id string) {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByNumber(132760)
	if fd == nil {
		return
	}
	l := r.Mutable(fd).List()
	l.Truncate(0)
	l.Append(protoreflect.ValueOfString(id))
}

// call sends a request and waits for its whole answer. An answer lost
// with the connection fails with errSentLost (never resent here).
func (s *session) call(ctx context.Context, tpl int32, m proto.Message) ([]proto.Message, error) {
	id := s.p.id()
	setUserMsg(m, id)
	c := &call{tpl: tpl, done: make(chan struct{})}
	s.mu.Lock()
	select {
	case <-s.ended:
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s plant", broker.ErrDisconnected, s.p.name)
	default:
	}
	s.calls[id] = c
	s.mu.Unlock()
	if err := s.write(ctx, tpl, m); err != nil {
		s.take([]string{id})
		return nil, err // not sent
	}
	ctx, cancel := context.WithTimeout(ctx, s.p.opt.RequestTimeout)
	defer cancel()
	select {
	case <-c.done:
		return c.parts, c.err
	case <-ctx.Done():
		if s.take([]string{id}) == nil {
			<-c.done
			return c.parts, c.err
		}
		return nil, fmt.Errorf("%w: template %d: no answer: %v", errSentLost, tpl, ctx.Err())
	}
}

// snapshot sends a request answered by notifications flagged is_snapshot
// before its response (320, 3506, 402) and returns them.
func (s *session) snapshot(ctx context.Context, tpl int32, m proto.Message) ([]proto.Message, error) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	var got []proto.Message
	s.mu.Lock()
	s.snap = &got
	s.mu.Unlock()
	_, err := s.call(ctx, tpl, m)
	s.mu.Lock()
	s.snap = nil
	s.mu.Unlock()
	return got, err
}

func websocketDial(ctx context.Context, url string) (*websocket.Conn, *http.Response, error) {
	ws, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil {
		ws.SetReadLimit(rpb.MaxFrame + 4)
	}
	return ws, resp, err
}
