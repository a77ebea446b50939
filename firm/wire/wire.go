// Package wire is the firm layer's protocol on NATS: the JetStream stream a
// desk's journal is published to (subjects per desk and record kind, one
// message per journal record, deduplicated by Nats-Msg-Id = desk:seq), the
// core-NATS subjects of heartbeats and firm commands, and the signed firm
// command (ed25519) with its stale and replay checks. Both sides — the
// desk's outbox and the firm aggregator — import it, so the two cannot
// disagree on a subject or a field.
package wire

// wire.go: subjects, headers, the stream's configuration, heartbeats.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Subjects and names. A desk name is one NATS subject token (ValidDesk).
const (
	// DefaultStream is the JetStream stream holding every desk's journal.
	DefaultStream = "DESKGUARD_JOURNAL"
	// JournalPrefix: journal records are published on
	// deskguard.journal.<desk>.<kind>.
	JournalPrefix = "deskguard.journal."
	// AllJournals is the stream's (and the firm consumer's) subject filter.
	AllJournals = JournalPrefix + ">"
	// FirmHeartbeat is where the firm aggregator says it is alive (core
	// NATS, once a second): a desk that hears none for its configured time
	// has lost the firm link.
	FirmHeartbeat = "deskguard.firm.hb"
	// DefaultDurable is the firm aggregator's durable consumer.
	DefaultDurable = "deskguard-firm"
)

// Headers of a journal message. Nats-Msg-Id (jetstream.MsgIDHeader) is
// MsgID(desk, seq): JetStream drops a second message with the same id
// inside the stream's duplicate window
// (https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive#message-deduplication).
const (
	HdrDesk    = "Deskguard-Desk"
	HdrSeq     = "Deskguard-Seq"
	HdrJournal = "Deskguard-Journal" // the journal file's creation time: tells two journals of one desk apart
)

// JournalSubject is the subject of one record of desk's journal.
func JournalSubject(desk, kind string) string { return JournalPrefix + desk + "." + kind }

// DeskJournals is the subject filter of every record of desk's journal.
func DeskJournals(desk string) string { return JournalPrefix + desk + ".>" }

// CommandSubject is where desk listens for firm commands (request/reply).
func CommandSubject(desk string) string { return "deskguard.cmd." + desk }

// DeskHeartbeat is where desk publishes its heartbeat (core NATS).
func DeskHeartbeat(desk string) string { return "deskguard.desk." + desk + ".hb" }

// AllDeskHeartbeats subscribes to every desk's heartbeat.
const AllDeskHeartbeats = "deskguard.desk.*.hb"

// MsgID is the Nats-Msg-Id of record seq of desk's journal.
func MsgID(desk string, seq uint64) string { return desk + ":" + strconv.FormatUint(seq, 10) }

// ValidDesk reports whether name can be a desk name: 1 to 64 characters of
// A-Z, a-z, 0-9, '-' and '_' (one subject token, no wildcard).
func ValidDesk(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// StreamOptions configure the journal stream.
type StreamOptions struct {
	Name      string        // default DefaultStream
	Replicas  int           // default 1; 3 on a three-node cluster
	Duplicate time.Duration // duplicate window; default 2 minutes (JetStream's default)
	MaxAge    time.Duration // 0: kept until removed by the operator
	Memory    bool          // memory storage (tests only); default file
}

// StreamConfig is the journal stream's JetStream configuration.
func (o StreamOptions) StreamConfig() jetstream.StreamConfig {
	if o.Name == "" {
		o.Name = DefaultStream
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Duplicate <= 0 {
		o.Duplicate = 2 * time.Minute
	}
	st := jetstream.FileStorage
	if o.Memory {
		st = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{Name: o.Name, Subjects: []string{AllJournals}, Storage: st, Replicas: o.Replicas,
		Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld, Duplicates: o.Duplicate, MaxAge: o.MaxAge,
		Description: "deskguard: every desk's journal, one message per record (Nats-Msg-Id desk:seq)"}
}

// EnsureStream returns the journal stream, creating it when it does not
// exist. An existing stream is used as it is (an operator may have made it
// with other limits); only its subjects are checked.
func EnsureStream(ctx context.Context, js jetstream.JetStream, o StreamOptions) (jetstream.Stream, error) {
	cfg := o.StreamConfig()
	s, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = js.Stream(ctx, cfg.Name) // another desk made it meanwhile
		}
	}
	if err != nil {
		return nil, fmt.Errorf("firm: stream %s: %w", cfg.Name, err)
	}
	info := s.CachedInfo()
	ok := false
	for _, sub := range info.Config.Subjects {
		ok = ok || sub == AllJournals
	}
	if !ok {
		return nil, fmt.Errorf("firm: stream %s does not hold %s (subjects %v)", cfg.Name, AllJournals, info.Config.Subjects)
	}
	return s, nil
}

// DeskBeat is a desk's heartbeat: how far its outbox has got, and the last
// traded price it marks its positions at (the firm marks the desk's
// positions at it, so the firm's equity is the desk's own).
type DeskBeat struct {
	Desk      string  `json:"desk"`
	Time      int64   `json:"time"` // desk wall clock, ns UTC
	Journal   string  `json:"journal"`
	Committed uint64  `json:"committed"`
	Published uint64  `json:"published"`
	LastPrice int64   `json:"last_price"` // ticks (market.Price)
	State     string  `json:"state,omitempty"`
	FirmLink  bool    `json:"firm_link"` // the desk hears the firm's heartbeat
	ReduceOn  bool    `json:"reduce_only,omitempty"`
	Version   int     `json:"v"`
	Points    float64 `json:"last_points,omitempty"`
}

// FirmBeat is the firm aggregator's heartbeat.
type FirmBeat struct {
	Time    int64  `json:"time"` // firm wall clock, ns UTC
	Name    string `json:"name"`
	Killing bool   `json:"killing,omitempty"` // a firm kill is in force
}

// CountDesk is how many messages of desk's journal the stream holds (for
// checks that nothing was stored twice: it equals the desk's committed
// records once the outbox has caught up).
func CountDesk(ctx context.Context, nc *nats.Conn, o StreamOptions, desk string) (uint64, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	s, err := js.Stream(ctx, o.StreamConfig().Name)
	if err != nil {
		return 0, fmt.Errorf("firm: stream: %w", err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(DeskJournals(desk)))
	if err != nil {
		return 0, fmt.Errorf("firm: stream info: %w", err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n, nil
}
