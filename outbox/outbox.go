// Package outbox is a desk's side of the firm layer (issue 19): it publishes
// the desk's journal, record by record as commits land, to a NATS
// JetStream stream; it answers the firm's signed kill commands by flattening
// the desk as one more kill trigger ("firm"); it sends the desk's heartbeat
// and watches the firm's. Nothing of it is on the desk's three paths: the
// journal only signals it after a commit (journal.Follow, never blocking),
// it reads committed records in its own read transactions, and a firm kill
// reaches the desk through deskapi.Desk.Flatten exactly as a console kill
// does. While NATS is away the desk trades on; the outbox keeps a cursor of
// what the stream has acknowledged and catches up from the journal when NATS
// is back. A lost firm link never flattens or halts the desk; it can, when
// configured, turn on a reduce-only hook the desk's gate honours.
package outbox

// outbox.go: the publisher — journal → JetStream, at least once, each
// message carrying Nats-Msg-Id desk:seq so the stream drops a resend.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// Source is the journal the outbox reads (*journal.Journal).
type Source interface {
	Committed() (uint64, error)
	Follow() *journal.Follower
	ReadRawAfter(after uint64, max int, fn func(seq uint64, kind journal.Kind, raw []byte) error) (uint64, error)
	Created() (string, error)
}

// Options configure an Outbox.
type Options struct {
	Desk    string     // the desk's name: one subject token (wire.ValidDesk)
	Journal Source     // the desk's journal
	Conn    *nats.Conn // a connection that reconnects on its own (see Connect)
	Stream  wire.StreamOptions
	// CursorFile is where the outbox records the last journal sequence the
	// stream acknowledged (default: the journal's path + ".outbox"). It is
	// a hint for a start while NATS is away: on every connection the
	// stream's own last message of this desk is read and the larger of the
	// two is taken, so a cursor that lags sends nothing twice.
	CursorFile string
	Batch      int           // records read from the journal at a time (default 1024)
	Window     int           // publishes awaiting their acknowledgement at most (default 4 × Batch)
	AckTimeout time.Duration // per message (default 5s)
	Clock      market.Clock  // wall clock (heartbeats, timestamps); default market.WallClock
	Log        *slog.Logger

	// OnPublish, when set, is called with each record's seq once it is
	// handed to the NATS client (the benchmarks split commit → firm view
	// into stages with it). Called on the publishing goroutine: must not
	// block.
	OnPublish func(seq uint64)
}

// ErrOtherJournal: the stream's last message of this desk came from
// another journal file (a desk that started a new journal under the same
// name). Publishing would collide with the old journal's message ids, so
// the outbox publishes nothing (the desk trades on) until the stream is
// purged of the desk or the desk is renamed.
var ErrOtherJournal = errors.New("outbox: the stream holds another journal of this desk")

// Outbox publishes one desk's journal. Run it in its own goroutine.
type Outbox struct {
	opt   Options
	epoch string
	log   *slog.Logger

	published atomic.Uint64 // last seq the stream acknowledged (contiguous)
	committed atomic.Uint64 // last durable seq seen
	up        atomic.Bool   // the last publish round reached the stream
	sent      atomic.Uint64 // messages acknowledged by the stream since start (resends included)

	// owned by Run's goroutine
	inflight []inflight // published, not yet acknowledged, in journal order
	next     uint64     // the last seq published (acknowledged or in flight)

	mu       sync.Mutex
	lastErr  string
	downAt   time.Time     // when the stream was last lost (zero: up, or never reached)
	progress chan struct{} // closed (and replaced) each time published moves
}

// New opens the outbox: reads the cursor file. Nothing is published until
// Run.
func New(opt Options) (*Outbox, error) {
	if !wire.ValidDesk(opt.Desk) {
		return nil, fmt.Errorf("outbox: desk name %q is not one NATS subject token (A-Z a-z 0-9 - _)", opt.Desk)
	}
	if opt.Journal == nil || opt.Conn == nil {
		return nil, errors.New("outbox: a journal and a NATS connection are required")
	}
	if opt.Batch <= 0 {
		opt.Batch = 1024
	}
	if opt.Window <= 0 {
		opt.Window = 4 * opt.Batch
	}
	if opt.AckTimeout <= 0 {
		opt.AckTimeout = 5 * time.Second
	}
	if opt.Clock == nil {
		opt.Clock = market.WallClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	epoch, err := opt.Journal.Created()
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o := &Outbox{opt: opt, epoch: epoch, log: opt.Log}
	if opt.CursorFile != "" {
		seq, err := readCursor(opt.CursorFile, opt.Desk, epoch)
		if err != nil {
			return nil, err
		}
		o.published.Store(seq)
	}
	c, err := opt.Journal.Committed()
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o.committed.Store(c)
	if o.published.Load() > c {
		return nil, fmt.Errorf("outbox: cursor %s says seq %d was published but the journal ends at %d: a cursor of another journal",
			opt.CursorFile, o.published.Load(), c)
	}
	return o, nil
}

// Status is the outbox at one instant (status, console, metrics).
type Status struct {
	Desk      string `json:"desk"`
	Committed uint64 `json:"committed"` // last durable journal seq
	Published uint64 `json:"published"` // last seq the stream acknowledged
	Lag       uint64 `json:"lag"`       // committed − published: records the firm has not got
	Up        bool   `json:"up"`        // connected, and the last publish round reached the stream
	DownSince string `json:"down_since,omitempty"`
	Error     string `json:"error,omitempty"`
	Sent      uint64 `json:"sent"` // acknowledged messages since start
}

// Status reports the outbox's progress.
func (o *Outbox) Status() Status {
	c, p := o.committed.Load(), o.published.Load()
	st := Status{Desk: o.opt.Desk, Committed: c, Published: p, Up: o.up.Load() && o.opt.Conn.IsConnected(), Sent: o.sent.Load()}
	if c > p {
		st.Lag = c - p
	}
	o.mu.Lock()
	st.Error = o.lastErr
	if !o.downAt.IsZero() {
		st.DownSince = o.downAt.UTC().Format(time.RFC3339Nano)
	}
	o.mu.Unlock()
	return st
}

// Lag is how many committed journal records the stream has not yet
// acknowledged.
func (o *Outbox) Lag() uint64 {
	c, p := o.committed.Load(), o.published.Load()
	if c > p {
		return c - p
	}
	return 0
}

// setPublished moves the acknowledged prefix to seq and wakes
// WaitPublished.
func (o *Outbox) setPublished(seq uint64) {
	o.published.Store(seq)
	o.mu.Lock()
	if o.progress != nil {
		close(o.progress)
		o.progress = nil
	}
	o.mu.Unlock()
}

// WaitPublished waits until the stream has acknowledged every record up
// to seq, or ctx ends (its error). A desk's exit uses it with the
// journal's last committed seq: Lag alone reads the committed seq Run last
// saw, and a record committed just before exit is not in it yet.
func (o *Outbox) WaitPublished(ctx context.Context, seq uint64) error {
	for {
		o.mu.Lock()
		if o.published.Load() >= seq {
			o.mu.Unlock()
			return nil
		}
		if o.progress == nil {
			o.progress = make(chan struct{})
		}
		ch := o.progress
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("outbox: seq %d not acknowledged (published %d): %w", seq, o.published.Load(), ctx.Err())
		}
	}
}

// Published is the last journal seq the stream acknowledged.
func (o *Outbox) Published() uint64 { return o.published.Load() }

// Committed is the last durable journal seq the outbox has seen.
func (o *Outbox) Committed() uint64 { return o.committed.Load() }

// Epoch is the journal's identity the outbox publishes under.
func (o *Outbox) Epoch() string { return o.epoch }

// Run publishes until ctx ends: every committed record, in order, then
// each new commit as it lands. It returns ctx's error, or ErrOtherJournal.
func (o *Outbox) Run(ctx context.Context) error {
	f := o.opt.Journal.Follow()
	defer f.Close()
	cursor := o.startCursor()
	defer cursor.stop()
	js, err := jetstream.New(o.opt.Conn, jetstream.WithPublishAsyncMaxPending(o.opt.Window+o.opt.Batch),
		jetstream.WithPublishAsyncTimeout(o.opt.AckTimeout))
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	synced := false
	backoff := backoffStart
	for ctx.Err() == nil {
		if !synced {
			err := o.sync(ctx, js)
			if errors.Is(err, ErrOtherJournal) {
				o.fail(err)
				o.log.Error("outbox stopped: nothing of this journal is published", "err", err)
				<-ctx.Done()
				return err
			}
			if err != nil {
				o.fail(err)
				backoff = o.wait(ctx, backoff)
				continue
			}
			synced = true
		}
		c, err := o.opt.Journal.Committed()
		if err != nil {
			o.fail(err)
			backoff = o.wait(ctx, backoff)
			continue
		}
		o.committed.Store(c)
		if o.published.Load() >= c {
			cursor.due()
			select {
			case <-f.C:
			case <-ctx.Done():
			}
			continue
		}
		if err := o.publishRound(ctx, js, f.C); err != nil {
			if ctx.Err() != nil {
				break
			}
			o.fail(err)
			// Resend from the first record the stream did not acknowledge;
			// after a reconnect the stream's last message is read again.
			if !o.opt.Conn.IsConnected() {
				synced = false
			}
			backoff = o.wait(ctx, backoff)
			continue
		}
		backoff = backoffStart
		o.ok()
		cursor.due()
	}
	return ctx.Err()
}

const (
	backoffStart = 20 * time.Millisecond
	backoffMax   = time.Second
)

// wait sleeps for backoff (or until the connection is back), and returns
// the next backoff. Real time: this is retry pacing of a network client,
// not desk logic.
func (o *Outbox) wait(ctx context.Context, backoff time.Duration) time.Duration {
	t := time.NewTimer(backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return min(2*backoff, backoffMax)
}

func (o *Outbox) fail(err error) {
	o.up.Store(false)
	o.mu.Lock()
	if o.lastErr == "" {
		o.log.Warn("outbox: the stream is out of reach; the desk trades on and the outbox catches up later", "err", err)
	}
	o.lastErr = err.Error()
	if o.downAt.IsZero() {
		o.downAt = o.opt.Clock.Now()
	}
	o.mu.Unlock()
}

func (o *Outbox) ok() {
	if o.up.Swap(true) {
		return
	}
	o.mu.Lock()
	if o.lastErr != "" {
		o.log.Info("outbox: the stream is reachable again", "published", o.published.Load(), "committed", o.committed.Load())
	}
	o.lastErr, o.downAt = "", time.Time{}
	o.mu.Unlock()
}

// sync reads the stream's last message of this desk and moves the cursor
// up to it when the stream holds every record up to it (records the
// stream has, whatever the cursor file says, are not sent again). The
// stream can hold a later record without an earlier one — a publish that
// failed (or that the NATS client was still retrying when the connection
// dropped) while later ones were stored — so the last message alone does
// not prove a prefix: unless the stream's count of this desk's messages
// equals that last seq, the outbox resends from its own acknowledged
// prefix, and the stream drops the ones it has (Nats-Msg-Id).
func (o *Outbox) sync(ctx context.Context, js jetstream.JetStream) error {
	cctx, cancel := context.WithTimeout(ctx, o.opt.AckTimeout)
	defer cancel()
	s, err := wire.EnsureStream(cctx, js, o.opt.Stream)
	if err != nil {
		return err
	}
	m, err := s.GetLastMsgForSubject(cctx, wire.DeskJournals(o.opt.Desk))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("outbox: last message of %s: %w", o.opt.Desk, err)
	}
	if ep := m.Header.Get(wire.HdrJournal); ep != o.epoch {
		return fmt.Errorf("%w: the stream's last record of desk %s is from the journal created %s; this journal was created %s",
			ErrOtherJournal, o.opt.Desk, ep, o.epoch)
	}
	last, err := strconv.ParseUint(m.Header.Get(wire.HdrSeq), 10, 64)
	if err != nil {
		return fmt.Errorf("outbox: the stream's last record of %s has no sequence header: %w", o.opt.Desk, err)
	}
	if last > o.committed.Load() {
		return fmt.Errorf("%w: the stream has seq %d of desk %s; this journal ends at %d", ErrOtherJournal, last, o.opt.Desk, o.committed.Load())
	}
	if last <= o.published.Load() {
		return nil
	}
	info, err := s.Info(cctx, jetstream.WithSubjectFilter(wire.DeskJournals(o.opt.Desk)))
	if err != nil {
		return fmt.Errorf("outbox: stream info of %s: %w", o.opt.Desk, err)
	}
	var held uint64
	for _, n := range info.State.Subjects {
		held += n
	}
	if held != last {
		o.log.Warn("outbox: the stream's records of this desk are not a prefix of the journal; resending from the last acknowledged",
			"stream_last", last, "stream_count", held, "from", o.published.Load())
		return nil
	}
	o.setPublished(last)
	return nil
}

// publishRound keeps the stream's pipe full: it publishes records after
// the last one in flight (asynchronously, up to Window awaiting their
// acknowledgement), then takes acknowledgements in journal order, moving
// the cursor over the acknowledged prefix, until the pipe is half empty
// (or empty, when everything committed is in flight). The first failure
// ends the round and drops what is in flight: the records from the first
// unacknowledged one on are sent again (the stream drops the ones it
// already has, by Nats-Msg-Id).
func (o *Outbox) publishRound(ctx context.Context, js jetstream.JetStream, commits <-chan struct{}) error {
	if len(o.inflight) == 0 {
		o.next = o.published.Load()
	}
	var rerr error
	if room := o.opt.Window - len(o.inflight); room > 0 && o.next < o.committed.Load() {
		_, rerr = o.opt.Journal.ReadRawAfter(o.next, min(room, o.opt.Batch), func(seq uint64, kind journal.Kind, raw []byte) error {
			msg := nats.NewMsg(wire.JournalSubject(o.opt.Desk, string(kind)))
			msg.Data = raw
			msg.Header.Set(wire.HdrDesk, o.opt.Desk)
			msg.Header.Set(wire.HdrSeq, strconv.FormatUint(seq, 10))
			msg.Header.Set(wire.HdrJournal, o.epoch)
			f, err := js.PublishMsgAsync(msg, jetstream.WithMsgID(wire.MsgID(o.opt.Desk, seq)))
			if err != nil {
				return err
			}
			o.inflight = append(o.inflight, inflight{seq, f})
			o.next = seq
			if o.opt.OnPublish != nil {
				o.opt.OnPublish(seq)
			}
			return nil
		})
	}
	more := rerr == nil && o.next < o.committed.Load()
	for len(o.inflight) > 0 && !(more && len(o.inflight) < o.opt.Window/2) {
		s := o.inflight[0]
		var newCommits <-chan struct{}
		if !more && len(o.inflight) < o.opt.Window/2 {
			newCommits = commits // a commit while acks are awaited is published at once
		}
		select {
		case <-newCommits:
			return nil
		case <-s.f.Ok():
			o.inflight = o.inflight[1:]
			o.setPublished(s.seq)
			o.sent.Add(1)
		case err := <-s.f.Err():
			o.inflight = o.inflight[:0]
			return fmt.Errorf("outbox: publish %s: %w", wire.MsgID(o.opt.Desk, s.seq), err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if rerr != nil {
		o.inflight = o.inflight[:0]
		return fmt.Errorf("outbox: %w", rerr)
	}
	return nil
}

type inflight struct {
	seq uint64
	f   jetstream.PubAckFuture
}

// cursorEvery bounds how often the cursor file is rewritten while records
// flow: it is only a hint (see Options.CursorFile), and a write per commit
// would compete with the journal's own fsyncs for the disk.
const cursorEvery = 250 * time.Millisecond

// cursorSaver writes the cursor file on its own goroutine: a write is two
// fsyncs (the file, its directory), tens of milliseconds on a busy disk,
// and on the publishing goroutine it held up every commit behind it (the
// commit → firm view tail). Run signals it (due, never blocking) as the
// stream acknowledges; it writes the last acknowledged seq at most once
// per cursorEvery, and once more when Run ends.
type cursorSaver struct {
	kick chan struct{}
	quit chan struct{}
	done chan struct{}
}

func (o *Outbox) startCursor() *cursorSaver {
	c := &cursorSaver{kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	if o.opt.CursorFile == "" {
		close(c.done)
		return c
	}
	go o.cursorLoop(c)
	return c
}

// due tells the saver the stream has acknowledged more (never blocks).
func (c *cursorSaver) due() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// stop ends the saver after its last write.
func (c *cursorSaver) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	close(c.quit)
	<-c.done
}

// cursorLoop is the saver. Real time paces it (a bound on disk writes, not
// desk logic).
func (o *Outbox) cursorLoop(c *cursorSaver) {
	defer close(c.done)
	saved := o.published.Load() // what the file already says (New read it)
	save := func() {
		if p := o.published.Load(); p != saved {
			if err := writeCursor(o.opt.CursorFile, o.opt.Desk, o.epoch, p); err != nil {
				o.log.Warn("outbox: cursor file", "err", err)
				return
			}
			saved = p
		}
	}
	for {
		select {
		case <-c.quit:
			save()
			return
		case <-c.kick:
		}
		save()
		pace := time.NewTimer(cursorEvery)
		select {
		case <-c.quit:
			pace.Stop()
			save()
			return
		case <-pace.C:
		}
	}
}

// The cursor file: one line "deskguard-outbox v1 <desk> <journal epoch> <seq>".
func writeCursor(path, desk, epoch string, seq uint64) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("outbox: cursor %s: %w", path, err)
	}
	_, err = fmt.Fprintf(f, "deskguard-outbox v1 %s %s %d\n", desk, epoch, seq)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("outbox: cursor %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// readCursor reads the cursor file: 0 when it does not exist; an error for
// a cursor of another desk or journal (the desk's config points at the
// wrong file).
func readCursor(path, desk, epoch string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("outbox: cursor: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 5 || f[0] != "deskguard-outbox" || f[1] != "v1" {
		return 0, fmt.Errorf("outbox: cursor %s: not an outbox cursor file", path)
	}
	if f[2] != desk || f[3] != epoch {
		return 0, fmt.Errorf("outbox: cursor %s is of desk %s journal %s, not desk %s journal %s (remove it to publish this journal from its start)",
			path, f[2], f[3], desk, epoch)
	}
	seq, err := strconv.ParseUint(f[4], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("outbox: cursor %s: %w", path, err)
	}
	return seq, nil
}

// Connect dials NATS for a desk or the firm: reconnecting for ever, with no
// reconnect buffer (a publish while disconnected fails at once, so the
// outbox knows what the stream has), named for the server's monitoring.
// extra options (credentials, token, TLS) are added last.
func Connect(url, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(-1), nats.RetryOnFailedConnect(true), nats.PingInterval(2 * time.Second), nats.MaxPingsOutstanding(2)},
		extra...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("firm link: connect %s: %w", url, err)
	}
	return nc, nil
}
