// conn.go: one client connection: the WebSocket, its outbound queue and
// writer (silence and late 351s happen here), the idle check, the request
// loop, and the requests every plant shares: system info, login (session
// limits, plants down), heartbeat, logout; anything else before a login,
// or unknown, is answered with a Reject (75).

package rithmic

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/deskguard/deskguard/broker/rithmic/rpb"
)

const connQueue = 1 << 14

type conn struct {
	v      *Venue
	ws     *websocket.Conn
	out    chan []byte
	late   chan lateFrame
	closed chan struct{}
	once   sync.Once
	lastIn atomic.Int64 // unix ns of the last frame received

	// guarded by Venue.mu
	plant    rpb.InfraType // 0 until logged in
	user     string
	seq      int64           // login order, for the session limit
	orders   map[string]bool // accounts subscribed for order updates (308)
	brackets map[string]bool // accounts subscribed for bracket updates (336)
	pnl      map[string]bool // accounts subscribed for PnL updates (400)
	rms      map[string]bool // accounts subscribed for RMS updates (3508)
	mdBits   uint32          // market data subscription (100)
}

type lateFrame struct {
	due time.Time
	b   []byte
}

func (c *conn) kill() {
	c.once.Do(func() {
		close(c.closed)
		c.ws.CloseNow()
	})
}

// send queues one frame; a client too slow to drain its queue is dropped
// (it reconciles when it comes back).
func (c *conn) send(b []byte) {
	select {
	case c.out <- b:
	case <-c.closed:
	default:
		c.kill()
	}
}

// sendLate queues a 351: after the venue's current lateness, if any.
func (c *conn) sendLateLocked(b []byte) {
	if d := c.v.late; d > 0 {
		select {
		case c.late <- lateFrame{due: time.Now().Add(d), b: b}:
		case <-c.closed:
		default:
			c.kill()
		}
		return
	}
	c.send(b)
}

// forceOutLocked sends a ForcedLogout and closes the connection once it
// is written.
func (c *conn) forceOutLocked() {
	if b, err := rpb.Frame(rpb.TForcedLogout, &rpb.ForcedLogout{}); err == nil {
		c.send(b)
	}
	c.send(nil) // nil: close after writing what came before
	c.v.countLocked(func(s *Stats) { s.ForcedLogouts++ })
}

func (v *Venue) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		v.log.Warn("rithmic venue: websocket accept", "err", err)
		return
	}
	ws.SetReadLimit(rpb.MaxFrame + 4)
	c := &conn{v: v, ws: ws, out: make(chan []byte, connQueue), late: make(chan lateFrame, connQueue), closed: make(chan struct{})}
	c.lastIn.Store(time.Now().UnixNano())
	v.mu.Lock()
	v.conns[c] = struct{}{}
	v.countLocked(func(s *Stats) { s.SocketsOpened++ })
	v.mu.Unlock()
	v.log.Info("rithmic venue: socket open", "remote", r.RemoteAddr)
	ctx, cancel := context.WithCancel(r.Context())
	defer func() {
		cancel()
		v.mu.Lock()
		delete(v.conns, c)
		plant := c.plant
		v.mu.Unlock()
		c.kill()
		v.log.Info("rithmic venue: socket closed", "remote", r.RemoteAddr, "plant", plant.String())
	}()
	go c.writer(ctx)
	go c.delayer(ctx)
	for {
		typ, msg, err := ws.Read(ctx)
		if err != nil {
			return
		}
		c.lastIn.Store(time.Now().UnixNano())
		if typ != websocket.MessageBinary {
			c.reject(nil, "3", "R|Protocol frames are binary messages")
			continue
		}
		if err := rpb.Frames(msg, func(p []byte) error { v.handle(c, p); return nil }); err != nil {
			c.reject(nil, "3", err.Error())
		}
	}
}

// writer writes the queue, holding it while the plant is silent, and
// drops the client when it has been idle too long.
func (c *conn) writer(ctx context.Context) {
	idle := time.NewTicker(c.v.cfg.IdleTimeout / 3)
	defer idle.Stop()
	for {
		var b []byte
		select {
		case <-c.closed:
			return
		case <-ctx.Done():
			return
		case <-idle.C:
			c.v.mu.Lock()
			logged := c.plant != 0
			c.v.mu.Unlock()
			if logged && time.Since(time.Unix(0, c.lastIn.Load())) > c.v.cfg.IdleTimeout {
				c.v.log.Info("rithmic venue: client idle; dropping it", "plant", c.plant.String())
				c.v.count(func(s *Stats) { s.Dropped++ })
				c.kill()
				return
			}
			continue
		case b = <-c.out:
		}
		for {
			c.v.mu.Lock()
			until := c.v.silent[c.plant]
			c.v.mu.Unlock()
			d := time.Until(until)
			if d <= 0 {
				break
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.closed:
				t.Stop()
				return
			}
		}
		if b == nil {
			c.kill()
			return
		}
		if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
			c.kill()
			return
		}
	}
}

// delayer moves late frames to the queue when they are due, in order.
func (c *conn) delayer(ctx context.Context) {
	for {
		var f lateFrame
		select {
		case <-c.closed:
			return
		case <-ctx.Done():
			return
		case f = <-c.late:
		}
		if d := time.Until(f.due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.closed:
				t.Stop()
				return
			}
		}
		c.send(f.b)
	}
}

// reply queues a response.
func (c *conn) reply(tpl int32, m proto.Message) {
	b, err := rpb.Frame(tpl, m)
	if err != nil {
		c.v.log.Error("rithmic venue: encode", "template", tpl, "err", err)
		return
	}
	c.send(b)
}

// reject sends a Reject (75) echoing the request's user_msg.
func (c *conn) reject(userMsg []string, code, text string) {
	c.reply(rpb.TReject, &rpb.Reject{UserMsg: userMsg, RpCode: []string{code, text}})
	c.v.count(func(s *Stats) { s.Rejects++ })
}

var ok = []string{"0"}

func fail(code, text string) []string { return []string{code, text} }

type userMsger interface{ GetUserMsg() []string }

func userMsgOf(m proto.Message) []string {
	if u, ok := m.(userMsger); ok {
		return u.GetUserMsg()
	}
	return nil
}

// plantOf says which plant serves a request template (0: every plant).
func plantOf(tpl int32) rpb.InfraType {
	switch {
	case tpl == rpb.TMarketDataRequest || tpl == rpb.TFrontMonthRequest:
		return Ticker
	case tpl == rpb.TPnLUpdatesRequest || tpl == rpb.TPnLSnapshotRequest:
		return PnL
	case tpl >= 300 && tpl < 400 || tpl >= 3500 && tpl < 3600:
		return Order
	}
	return 0
}

// handle answers one frame.
func (v *Venue) handle(c *conn, p []byte) {
	tpl, m, err := rpb.Decode(p)
	if err != nil {
		c.reject(nil, "3", err.Error())
		return
	}
	if m == nil {
		c.reject(nil, "3", "unknown template id "+strconv.Itoa(int(tpl)))
		return
	}
	um := userMsgOf(m)
	v.mu.Lock()
	hook, plant := v.beforeReq, c.plant
	v.mu.Unlock()
	if hook != nil {
		hook(plant, tpl)
	}
	switch tpl {
	case rpb.TSystemInfoRequest:
		c.reply(rpb.TSystemInfoResponse, &rpb.ResponseRithmicSystemInfo{UserMsg: um, RpCode: ok, SystemName: []string{v.cfg.SystemName}})
		return
	case rpb.TLoginRequest:
		v.login(c, m.(*rpb.RequestLogin))
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c.plant == 0 {
		c.reply(rpb.TReject, &rpb.Reject{UserMsg: um, RpCode: fail("3", "log in first (template 10)")})
		v.countLocked(func(s *Stats) { s.Rejects++ })
		return
	}
	switch tpl {
	case rpb.THeartbeatRequest:
		ns := v.nowLocked()
		c.reply(rpb.THeartbeatResponse, &rpb.ResponseHeartbeat{UserMsg: um, RpCode: ok, Ssboe: int32(ns / 1e9), Usecs: int32(ns % 1e9 / 1e3)})
		return
	case rpb.TLogoutRequest:
		c.reply(rpb.TLogoutResponse, &rpb.ResponseLogout{UserMsg: um, RpCode: ok})
		c.send(nil)
		return
	}
	if want := plantOf(tpl); want != c.plant {
		c.reply(rpb.TReject, &rpb.Reject{UserMsg: um, RpCode: fail("3", fmt.Sprintf("template %d is not served by the %s", tpl, c.plant))})
		v.countLocked(func(s *Stats) { s.Rejects++ })
		return
	}
	if c.plant == Order && v.rejectNext > 0 {
		v.rejectNext--
		c.reply(rpb.TReject, &rpb.Reject{UserMsg: um, RpCode: fail("9", "request refused by the gateway; try again")})
		v.countLocked(func(s *Stats) { s.Rejects++ })
		return
	}
	switch c.plant {
	case Ticker:
		v.tickerRequest(c, tpl, m, um)
	case PnL:
		v.pnlRequest(c, tpl, m, um)
	case Order:
		v.orderRequest(c, tpl, m, um)
	}
}

// login checks the credentials, the system and the plant, applies the
// session limit, and answers with the heartbeat interval.
func (v *Venue) login(c *conn, r *rpb.RequestLogin) {
	v.mu.Lock()
	defer v.mu.Unlock()
	refuse := func(text string) {
		c.reply(rpb.TLoginResponse, &rpb.ResponseLogin{UserMsg: r.UserMsg, RpCode: fail("13", text), TemplateVersion: r.TemplateVersion})
		v.countLocked(func(s *Stats) { s.LoginsRefused++ })
	}
	switch {
	case c.plant != 0:
		refuse("already logged in on this connection")
		return
	case r.User != v.cfg.User || r.Password != v.cfg.Password:
		refuse("permission denied: user or password")
		return
	case r.SystemName != v.cfg.SystemName:
		refuse(fmt.Sprintf("unknown system %q", r.SystemName))
		return
	case r.InfraType != Ticker && r.InfraType != Order && r.InfraType != PnL:
		refuse(fmt.Sprintf("this venue serves the ticker, order and PnL plants, not %s", r.InfraType))
		return
	case time.Now().Before(v.down[r.InfraType]):
		refuse(fmt.Sprintf("%s is unavailable", r.InfraType))
		return
	}
	// Past the session limit the oldest session of the plant is forced out.
	var same []*conn
	for o := range v.conns {
		if o != c && o.plant == r.InfraType && o.user == r.User {
			same = append(same, o)
		}
	}
	for len(same) >= v.cfg.MaxSessions {
		oldest := 0
		for i, o := range same {
			if o.seq < same[oldest].seq {
				oldest = i
			}
		}
		same[oldest].forceOutLocked()
		same[oldest].plant = 0 // no more notifications to it
		same = append(same[:oldest], same[oldest+1:]...)
	}
	v.nextID++
	c.plant, c.user, c.seq = r.InfraType, r.User, v.nextID
	c.orders, c.brackets, c.pnl, c.rms = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	v.countLocked(func(s *Stats) { s.Logins[r.InfraType]++ })
	c.reply(rpb.TLoginResponse, &rpb.ResponseLogin{UserMsg: r.UserMsg, RpCode: ok, TemplateVersion: r.TemplateVersion,
		FcmId: v.cfg.FCM, IbId: v.cfg.IB, UniqueUserId: r.User + "@" + v.cfg.SystemName,
		HeartbeatInterval: v.cfg.HeartbeatEvery.Seconds()})
}
