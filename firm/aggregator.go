package firm

// aggregator.go: `deskguard firm` — a durable JetStream consumer over every
// desk's journal stream, each record folded once into its desk's Book, the
// books saved with the stream position they reflect; desks' heartbeats
// (marks, outbox progress) in; the firm's heartbeat out; firm limits
// checked. The durable consumer is acknowledged (AckAll) only up to what
// the saved state holds, so its ack floor is the state's position.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// Options configure an Aggregator.
type Options struct {
	Name    string     // the firm's name (heartbeat, logs); default "firm"
	Conn    *nats.Conn // reconnecting connection (outbox.Connect)
	Stream  wire.StreamOptions
	Durable string // durable consumer name (default wire.DefaultDurable)
	// StateFile holds the books and the stream position they reflect
	// ("" = in memory only: every start is a fresh rebuild).
	StateFile string
	SaveEvery time.Duration // default 1s
	Desks     []string      // desks expected (shown, and killed, before they publish)
	Key       ed25519.PrivateKey
	Limits    Limits
	Clock     market.Clock // wall clock; default market.WallClock
	Log       *slog.Logger

	BeatEvery  time.Duration // the firm's heartbeat (default 1s)
	DeskStale  time.Duration // a desk heartbeat older than this: its link is down (default 5s)
	KillRetry  time.Duration // between re-issues of an unconfirmed kill (default 250ms)
	KillWait   time.Duration // how long one kill request waits for its reply before it is re-issued (default 2s)
	MaxPending int           // the consumer's MaxAckPending (default 200000)

	// OnApply, when set, is called after each record is folded (the
	// benchmarks time commit → visible with it). Must not block.
	OnApply func(desk string, seq uint64)
}

// Aggregator is the firm's view. Safe for concurrent use.
type Aggregator struct {
	opt Options
	log *slog.Logger

	mu        sync.RWMutex
	books     map[string]*Book
	streamSeq uint64 // last stream message folded
	links     map[string]*deskLink
	kills     []*KillState
	limit     limitState

	// While Run runs: its context and goroutines, which a kill's
	// per-desk loops join (so they end with Run, and a restarted firm
	// resumes them from its state file). Guarded by mu; nil otherwise.
	runCtx context.Context
	runWG  *sync.WaitGroup

	applied  atomic.Uint64 // records folded since start
	skipped  atomic.Uint64 // duplicates skipped (seq already folded)
	consumer atomic.Value  // string: consumer state for the console
	saved    atomic.Uint64 // stream seq of the last saved state
}

type deskLink struct {
	Beat  wire.DeskBeat `json:"beat"`
	Heard int64         `json:"heard"` // firm wall ns
}

// savedState is the state file.
type savedState struct {
	Version   int              `json:"v"`
	StreamSeq uint64           `json:"stream_seq"`
	Books     map[string]*Book `json:"books"`
	Kills     []*KillState     `json:"kills,omitempty"`
}

// New builds the aggregator and loads its state file.
func New(opt Options) (*Aggregator, error) {
	if opt.Conn == nil {
		return nil, errors.New("firm: a NATS connection is required")
	}
	if opt.Name == "" {
		opt.Name = "firm"
	}
	if opt.Durable == "" {
		opt.Durable = wire.DefaultDurable
	}
	if opt.SaveEvery <= 0 {
		opt.SaveEvery = time.Second
	}
	if opt.Clock == nil {
		opt.Clock = market.WallClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.BeatEvery <= 0 {
		opt.BeatEvery = time.Second
	}
	if opt.DeskStale <= 0 {
		opt.DeskStale = 5 * time.Second
	}
	if opt.KillRetry <= 0 {
		opt.KillRetry = 250 * time.Millisecond
	}
	if opt.KillWait <= 0 {
		opt.KillWait = 2 * time.Second
	}
	if opt.MaxPending <= 0 {
		opt.MaxPending = 200000
	}
	for _, d := range opt.Desks {
		if !wire.ValidDesk(d) {
			return nil, fmt.Errorf("firm: desk name %q is not one NATS subject token", d)
		}
	}
	a := &Aggregator{opt: opt, log: opt.Log, books: map[string]*Book{}, links: map[string]*deskLink{}}
	a.consumer.Store("not started")
	if opt.StateFile != "" {
		if err := a.load(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *Aggregator) load() error {
	b, err := os.ReadFile(a.opt.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("firm: state: %w", err)
	}
	var s savedState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("firm: state %s: %w (move it away to rebuild from the stream)", a.opt.StateFile, err)
	}
	if s.Version != 1 {
		return fmt.Errorf("firm: state %s: version %d, this build reads 1", a.opt.StateFile, s.Version)
	}
	for name, bk := range s.Books {
		if err := bk.thaw(); err != nil {
			return err
		}
		a.books[name] = bk
	}
	a.streamSeq, a.kills = s.StreamSeq, s.Kills
	for _, k := range a.kills {
		k.done = make(chan struct{})
		if k.Done {
			k.finishLocked()
		}
	}
	a.saved.Store(s.StreamSeq)
	return nil
}

// Run consumes the stream, keeps the books and the links, and sends the
// heartbeat until ctx ends. It returns ctx's error, or a setup error.
func (a *Aggregator) Run(ctx context.Context) error {
	hb, err := a.opt.Conn.Subscribe(wire.AllDeskHeartbeats, a.onDeskBeat)
	if err != nil {
		return fmt.Errorf("firm: subscribe heartbeats: %w", err)
	}
	defer hb.Unsubscribe()
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); a.beatLoop(ctx) }()
	a.mu.Lock()
	a.runCtx, a.runWG = ctx, &wg
	a.resumeKillsLocked()
	a.mu.Unlock()
	stopped := false
	stop := func() { // the kills' loops and the heartbeat end before the last save
		if stopped {
			return
		}
		stopped = true
		a.mu.Lock()
		a.runCtx, a.runWG = nil, nil
		a.mu.Unlock()
		cancel()
		wg.Wait()
	}
	defer stop()

	js, err := jetstream.New(a.opt.Conn)
	if err != nil {
		return fmt.Errorf("firm: %w", err)
	}
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := a.consume(ctx, js)
		if ctx.Err() != nil {
			break
		}
		a.consumer.Store("down: " + err.Error())
		a.log.Warn("firm: stream consumer stopped; retrying", "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, 2*time.Second)
	}
	err = ctx.Err()
	stop()
	a.save(true, nil)
	return err
}

// consume points the durable consumer at the state's position and folds
// messages until an error or ctx's end.
func (a *Aggregator) consume(ctx context.Context, js jetstream.JetStream) error {
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	s, err := wire.EnsureStream(sctx, js, a.opt.Stream)
	if err != nil {
		return err
	}
	a.mu.RLock()
	from := a.streamSeq
	a.mu.RUnlock()
	cons, err := a.position(sctx, s, from)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024), jetstream.PullHeartbeat(2*time.Second))
	if err != nil {
		return fmt.Errorf("firm: consume: %w", err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	a.consumer.Store("up")
	// The state is saved (and the consumer acknowledged up to it) on its
	// own goroutine, so a save never holds up the fold.
	var last atomic.Value // lastMsg
	saveCtx, stopSave := context.WithCancel(ctx)
	saved := make(chan struct{})
	go func() {
		defer close(saved)
		t := time.NewTicker(a.opt.SaveEvery)
		defer t.Stop()
		for {
			select {
			case <-saveCtx.Done():
				return
			case <-t.C:
				if m, ok := last.Load().(lastMsg); ok {
					a.save(false, m.m)
				}
			}
		}
	}()
	defer func() {
		stopSave()
		<-saved
		if m, ok := last.Load().(lastMsg); ok {
			a.save(true, m.m)
		}
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) && ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("firm: consume: %w", err)
		}
		a.fold(msg)
		last.Store(lastMsg{msg})
	}
}

type lastMsg struct{ m jetstream.Msg }

// position returns the durable consumer, created or re-pointed so that its
// next message is the one after the saved state's position: a consumer
// left with delivered but unacknowledged messages would send them again
// only after its AckWait, behind newer ones.
func (a *Aggregator) position(ctx context.Context, s jetstream.Stream, from uint64) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{Durable: a.opt.Durable, AckPolicy: jetstream.AckAllPolicy, FilterSubject: wire.AllJournals,
		MaxAckPending: a.opt.MaxPending, AckWait: time.Minute, DeliverPolicy: jetstream.DeliverAllPolicy,
		Description: "deskguard firm aggregator (acked up to its saved state)"}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from+1
	}
	c, err := s.Consumer(ctx, a.opt.Durable)
	if err == nil {
		info := c.CachedInfo()
		if info.AckFloor.Stream == from && info.Delivered.Stream == from && info.NumAckPending == 0 {
			return c, nil // exactly where the state is
		}
		if err := s.DeleteConsumer(ctx, a.opt.Durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("firm: re-point consumer %s: %w", a.opt.Durable, err)
		}
		a.log.Info("firm: consumer re-pointed at the saved state", "consumer", a.opt.Durable, "ack_floor", info.AckFloor.Stream,
			"delivered", info.Delivered.Stream, "state", from)
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("firm: consumer %s: %w", a.opt.Durable, err)
	}
	c, err = s.CreateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("firm: create consumer %s: %w", a.opt.Durable, err)
	}
	return c, nil
}

// fold applies one stream message to its desk's book.
func (a *Aggregator) fold(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		a.log.Warn("firm: message without metadata", "subject", msg.Subject(), "err", err)
		return
	}
	h := msg.Headers()
	desk := h.Get(wire.HdrDesk)
	seq, err := strconv.ParseUint(h.Get(wire.HdrSeq), 10, 64)
	var rec journal.Record
	if err == nil {
		rec, err = journal.DecodeValue(seq, msg.Data())
	}
	a.mu.Lock()
	a.streamSeq = meta.Sequence.Stream
	if err != nil || !wire.ValidDesk(desk) {
		a.mu.Unlock()
		a.log.Warn("firm: a message that is not a journal record", "subject", msg.Subject(), "stream_seq", meta.Sequence.Stream, "err", err)
		return
	}
	bk := a.books[desk]
	if bk == nil {
		bk = NewBook(desk)
		a.books[desk] = bk
	}
	if ep := h.Get(wire.HdrJournal); bk.Journal == "" {
		bk.Journal = ep
	} else if ep != bk.Journal {
		bk.errorf(seq, "record of another journal (%s, the book's is %s): not folded", ep, bk.Journal)
		a.mu.Unlock()
		return
	}
	folded, dup := bk.Apply(rec)
	a.mu.Unlock()
	if dup {
		a.skipped.Add(1)
		return
	}
	a.applied.Add(uint64(len(folded)))
	if a.opt.OnApply != nil {
		for _, s := range folded {
			a.opt.OnApply(desk, s)
		}
	}
}

// save writes the state file (every SaveEvery, or now when force) and then
// acknowledges last, so the consumer's ack floor never passes what the
// file holds.
func (a *Aggregator) save(force bool, last jetstream.Msg) {
	if a.opt.StateFile == "" {
		if last != nil {
			_ = last.Ack()
		}
		return
	}
	a.mu.Lock()
	for _, bk := range a.books {
		bk.freeze()
	}
	st := savedState{Version: 1, StreamSeq: a.streamSeq, Books: a.books, Kills: a.kills}
	b, err := json.Marshal(st)
	seq := a.streamSeq
	a.mu.Unlock()
	if err != nil {
		a.log.Error("firm: state", "err", err)
		return
	}
	if !force && seq == a.saved.Load() {
		return
	}
	if err := writeFile(a.opt.StateFile, b); err != nil {
		a.log.Error("firm: state not saved; the consumer is not acknowledged past the last save", "err", err)
		return
	}
	a.saved.Store(seq)
	if last != nil {
		if meta, err := last.Metadata(); err == nil && meta.Sequence.Stream <= seq {
			_ = last.Ack()
		}
	}
}

func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		if d, derr := os.Open(filepath.Dir(path)); derr == nil {
			_ = d.Sync()
			d.Close()
		}
	}
	return err
}

func (a *Aggregator) onDeskBeat(m *nats.Msg) {
	var b wire.DeskBeat
	if json.Unmarshal(m.Data, &b) != nil || !wire.ValidDesk(b.Desk) || m.Subject != wire.DeskHeartbeat(b.Desk) {
		return
	}
	a.mu.Lock()
	a.links[b.Desk] = &deskLink{Beat: b, Heard: a.opt.Clock.Now().UnixNano()}
	a.mu.Unlock()
}

func (a *Aggregator) beatLoop(ctx context.Context) {
	beat := time.NewTicker(a.opt.BeatEvery)
	check := time.NewTicker(100 * time.Millisecond)
	defer beat.Stop()
	defer check.Stop()
	a.beat()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			a.beat()
		case <-check.C:
			a.checkLimits(ctx)
		}
	}
}

func (a *Aggregator) beat() {
	a.mu.RLock()
	killing := false
	for _, k := range a.kills {
		killing = killing || !k.Done
	}
	a.mu.RUnlock()
	_ = a.opt.Conn.Publish(wire.FirmHeartbeat, wire.Marshal(wire.FirmBeat{Time: a.opt.Clock.Now().UnixNano(), Name: a.opt.Name, Killing: killing}))
}

// deskNames is every desk the firm knows: expected, publishing, or heard.
func (a *Aggregator) deskNames() []string {
	seen := map[string]bool{}
	for _, d := range a.opt.Desks {
		seen[d] = true
	}
	for d := range a.books {
		seen[d] = true
	}
	for d := range a.links {
		seen[d] = true
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Stats are the aggregator's counters.
type Stats struct {
	StreamSeq uint64 `json:"stream_seq"`
	Saved     uint64 `json:"saved_stream_seq"`
	Applied   uint64 `json:"applied"`
	Skipped   uint64 `json:"skipped_duplicates"`
	Consumer  string `json:"consumer"`
}

// Stats reports the counters.
func (a *Aggregator) Stats() Stats {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return Stats{StreamSeq: a.streamSeq, Saved: a.saved.Load(), Applied: a.applied.Load(), Skipped: a.skipped.Load(),
		Consumer: a.consumer.Load().(string)}
}

// Book returns a copy of desk's book as JSON-able state (tests, the
// console's detail), with ok false for an unknown desk.
func (a *Aggregator) Book(desk string) (Book, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	bk := a.books[desk]
	if bk == nil {
		return Book{}, false
	}
	bk.freeze()
	raw, _ := json.Marshal(bk)
	var cp Book
	_ = json.Unmarshal(raw, &cp)
	_ = cp.thaw()
	return cp, true
}

// LastSeq is the last journal seq folded for desk.
func (a *Aggregator) LastSeq(desk string) uint64 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if bk := a.books[desk]; bk != nil {
		return bk.LastSeq
	}
	return 0
}
