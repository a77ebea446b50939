package metrics

// latency.go: the histograms the desk's paths feed as they run — the gate
// check, the kill (trigger → every liquidation sent, → each account flat)
// and the journal's commits. Every Observe is an atomic add on a bucket
// chosen in advance: nothing here allocates or takes a lock, so the intent
// and kill paths pay two clock reads and an atomic add per sample.

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deskguard/deskguard/outbox"
	"github.com/deskguard/deskguard/supervisor"
)

// Latency holds the desk's latency histograms. It implements
// supervisor.Observer; JournalCommit is journal.Options.OnCommit.
type Latency struct {
	gate     prometheus.Histogram
	killSent map[string]prometheus.Observer // by trigger, every known trigger and otherTrigger
	killFlat prometheus.Histogram
	commit   prometheus.Histogram
	records  prometheus.Histogram
}

// otherTrigger is the trigger label of a kill whose trigger is not one of
// the supervisor's (a surface may name its own; journaled as it is, but
// never a label of its own: no unbounded label values).
const otherTrigger = "other"

// knownTriggers are the kill triggers that are labels of their own.
var knownTriggers = []supervisor.Trigger{
	supervisor.TriggerConsole, supervisor.TriggerCLI, supervisor.TriggerSignal, supervisor.TriggerButton,
	supervisor.TriggerSlack, supervisor.TriggerDeskDrawdown, supervisor.TriggerStaleData, supervisor.TriggerLockout,
	supervisor.TriggerFault, supervisor.TriggerCrashLoop, supervisor.TriggerSchedule, supervisor.TriggerStopRepair,
	supervisor.TriggerStopRepairFailed, supervisor.TriggerTrailing, supervisor.TriggerWeekly,
	supervisor.TriggerNewsBlackout, supervisor.TriggerUnconfirmedStop, supervisor.TriggerExternalOrder,
	supervisor.TriggerExternalNoRisk,
	outbox.Trigger, // the firm's signed kill (outbox.Link)
}

// Bucket bounds, in seconds (records for the records-per-commit one).
var (
	// The gate check is a few hundred nanoseconds to a few microseconds.
	gateBuckets = prometheus.ExponentialBucketsRange(100e-9, 1e-3, 14)
	// A kill is sent in well under a millisecond on a loopback venue, tens
	// of milliseconds on a real one; flat confirmed takes the venue's fills.
	killBuckets = prometheus.ExponentialBucketsRange(50e-6, 30, 20)
	// A commit is an fdatasync: ~100 µs on a fast SSD to seconds on a
	// stalled disk.
	commitBuckets = prometheus.ExponentialBucketsRange(50e-6, 5, 16)
	// Records per commit: 1 alone, up to the journal's batch (MaxBatch).
	recordBuckets = prometheus.ExponentialBuckets(1, 2, 12)
)

// NewLatency creates the latency histograms and registers them on reg.
func NewLatency(reg prometheus.Registerer) (*Latency, error) {
	l := &Latency{
		gate: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "deskguard_gate_check_seconds",
			Help: "Time of one pre-trade gate check (limits.Gate.Check), measured around it on the intent path.", Buckets: gateBuckets}),
		killFlat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "deskguard_kill_flat_seconds",
			Help: "Time from a kill's trigger to one account in its scope seen flat with nothing working (one sample per account).", Buckets: killBuckets}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "deskguard_journal_commit_seconds",
			Help: "Time of one durable journal commit (transaction start to fdatasync's return).", Buckets: commitBuckets}),
		records: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "deskguard_journal_commit_records",
			Help: "Records in one durable journal commit.", Buckets: recordBuckets}),
		killSent: make(map[string]prometheus.Observer, len(knownTriggers)+1),
	}
	sent := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "deskguard_kill_sent_seconds",
		Help: "Time from a kill's trigger to every liquidate request answered by the venue, by trigger.", Buckets: killBuckets}, []string{"trigger"})
	for _, t := range knownTriggers {
		l.killSent[string(t)] = sent.WithLabelValues(string(t))
	}
	l.killSent[otherTrigger] = sent.WithLabelValues(otherTrigger)
	for _, c := range []prometheus.Collector{l.gate, sent, l.killFlat, l.commit, l.records} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return l, nil
}

// GateChecked implements supervisor.Observer.
func (l *Latency) GateChecked(took time.Duration) { l.gate.Observe(took.Seconds()) }

// KillSent implements supervisor.Observer.
func (l *Latency) KillSent(trigger string, took time.Duration) {
	o, ok := l.killSent[trigger]
	if !ok {
		o = l.killSent[otherTrigger]
	}
	o.Observe(took.Seconds())
}

// KillFlat implements supervisor.Observer.
func (l *Latency) KillFlat(took time.Duration) { l.killFlat.Observe(took.Seconds()) }

// JournalCommit is journal.Options.OnCommit: one durable commit of records
// records that took took.
func (l *Latency) JournalCommit(records int, took time.Duration) {
	l.commit.Observe(took.Seconds())
	l.records.Observe(float64(records))
}

var _ supervisor.Observer = (*Latency)(nil)
