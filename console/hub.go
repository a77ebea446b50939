package console

// hub.go: the status stream. One goroutine asks the desk for its status
// once per interval (and right after each action) and hands the snapshot to
// every stream client without ever blocking: each client has a small
// bounded queue and loses its oldest snapshot when it falls behind. A
// client's own goroutine encodes (once per role per snapshot) and writes
// with a deadline, so a slow or dead browser costs the desk nothing.

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/deskapi"
)

// snapshot is one desk status with its per-role encodings, shared by all
// clients.
type snapshot struct {
	seq   uint64
	kicks uint64 // action requests seen before the Status call started
	at    time.Time
	st    deskapi.Status

	mu  sync.Mutex
	enc map[string][]byte
}

// encoded returns the status as role may see it, as JSON (memoized).
func (sn *snapshot) encoded(r auth.Role) ([]byte, error) {
	key := r.String()
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if b, ok := sn.enc[key]; ok {
		return b, nil
	}
	b, err := json.Marshal(authz.StatusFor(r, sn.st))
	if err != nil {
		return nil, err
	}
	if sn.enc == nil {
		sn.enc = make(map[string][]byte)
	}
	sn.enc[key] = b
	return b, nil
}

type client struct {
	ch      chan *snapshot
	dropped atomic.Int64
}

type hub struct {
	desk deskapi.Desk
	cfg  Config
	log  *slog.Logger

	kick    chan struct{} // cap 1: an action asks for a fresh snapshot
	kickReq atomic.Uint64

	mu       sync.Mutex
	clients  map[*client]struct{}
	latest   *snapshot
	notify   chan struct{} // closed and replaced on every publish
	onAdd    func()        // tests
	onRemove func()        // tests

	statusCalls atomic.Int64
	drops       atomic.Int64
}

func newHub(desk deskapi.Desk, cfg Config, log *slog.Logger) *hub {
	return &hub{
		desk:    desk,
		cfg:     cfg,
		log:     log,
		kick:    make(chan struct{}, 1),
		clients: make(map[*client]struct{}),
		notify:  make(chan struct{}),
	}
}

// run takes a snapshot at once, then every interval and after each kick,
// until ctx ends.
func (h *hub) run(ctx context.Context) {
	tick, stop := h.cfg.ticker(h.cfg.StatusEvery)
	defer stop()
	h.take(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-h.kick:
		}
		h.take(ctx)
	}
}

func (h *hub) take(ctx context.Context) {
	kicks := h.kickReq.Load()
	h.statusCalls.Add(1)
	st := h.desk.Status(ctx)
	h.publish(&snapshot{kicks: kicks, st: st, at: h.cfg.Clock.Now()})
}

// fresh reports whether sn is recent enough to answer GET /api/status.
func (h *hub) fresh(sn *snapshot) bool {
	return h.cfg.Clock.Now().Sub(sn.at) <= 2*h.cfg.StatusEvery
}

// publish makes sn the latest snapshot and queues it for every client,
// dropping a client's oldest queued snapshot if its queue is full.
func (h *hub) publish(sn *snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.latest != nil {
		sn.seq = h.latest.seq + 1
	}
	h.latest = sn
	close(h.notify)
	h.notify = make(chan struct{})
	for c := range h.clients {
		select {
		case c.ch <- sn:
			continue
		default:
		}
		select { // full: drop the oldest, then queue the newest
		case <-c.ch:
			c.dropped.Add(1)
			h.drops.Add(1)
		default:
		}
		select {
		case c.ch <- sn:
		default:
		}
	}
}

// refresh asks for a snapshot taken after now and waits for it (or ctx).
func (h *hub) refresh(ctx context.Context) *snapshot {
	want := h.kickReq.Add(1)
	select {
	case h.kick <- struct{}{}:
	default: // a kick is already pending; it will see want
	}
	for {
		h.mu.Lock()
		sn, ch := h.latest, h.notify
		h.mu.Unlock()
		if sn != nil && sn.kicks >= want {
			return sn
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
	}
}

// current returns the latest snapshot (nil before the first).
func (h *hub) current() *snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.latest
}

// add registers a stream client; the latest snapshot is queued at once.
func (h *hub) add() *client {
	c := &client{ch: make(chan *snapshot, h.cfg.ClientBuffer)}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	if h.latest != nil {
		c.ch <- h.latest
	}
	f := h.onAdd
	h.mu.Unlock()
	if f != nil {
		f()
	}
	return c
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	f := h.onRemove
	h.mu.Unlock()
	if f != nil {
		f()
	}
}

// clientCount is the number of connected stream clients.
func (h *hub) clientCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}
