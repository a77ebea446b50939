package supervisor

// statusview.go: what Status shows of the journal — its last records, the
// session's fills (the blotter), kills and gate rejections by reason —
// read back from the desk's own journal, never taken from the paths that
// write it. Each Status call folds only the records committed since the
// last one (in read transactions, at most foldChunk records a call, so a
// desk restarted on a long journal catches up over a few calls) and reads
// the last tailLines records. Its lock is Status's own: the tick, intent,
// event and kill paths never take it, and a bbolt read transaction never
// waits for the writer.
//
// It may touch the journal (reads only, through journalReader) and deskapi.

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/execution"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// What Status carries of the journal.
const (
	tailLines    = 20    // the journal panel's records
	blotterFills = 50    // the blotter's latest fills of the session
	foldChunk    = 20000 // records folded per Status call at most
	maxTailText  = 200   // characters of one record's summary
	maxStrats    = 1 << 16
)

// journalReader is a desk Journal that Status can read back; a
// *journal.Journal is one. A desk whose journal is not (a test's wrapper)
// shows no journal tail, blotter or kills, and its in-memory rejection
// counts.
type journalReader interface {
	Tail(n int) ([]journal.Record, error)
	ReadRawAfter(after uint64, max int, fn func(seq uint64, kind journal.Kind, raw []byte) error) (uint64, error)
}

// statusView is the session's records as folded from the journal.
type statusView struct {
	mu      sync.Mutex
	after   uint64 // the last seq folded
	session string // the session of the latest session reset folded
	fills   []deskapi.Fill
	kills   []deskapi.KillLine
	rejects map[string]map[string]int // account → reason → count
	strat   map[string]string         // client id (an entry's legs too) → strategy, this session
	failed  string                    // the last read error logged
}

// journalStatus fills st's journal tail, blotter and kills and returns the
// session's rejections by account (nil when the journal cannot be read
// back: the caller keeps its own counts).
func (d *Desk) journalStatus(st *deskapi.Status) map[string]map[string]int {
	jr, ok := d.j.(journalReader)
	if !ok {
		return nil
	}
	v := &d.view
	v.mu.Lock()
	defer v.mu.Unlock()
	last, err := jr.ReadRawAfter(v.after, foldChunk, func(seq uint64, kind journal.Kind, raw []byte) error {
		switch kind {
		case journal.KindIntent, journal.KindBrokerEvent, journal.KindBrokerError, journal.KindKill,
			journal.KindSessionReset, journal.KindReconcile:
		default:
			return nil
		}
		r, err := journal.DecodeValue(seq, raw)
		if err != nil {
			return err
		}
		v.fold(r, d.byID)
		return nil
	})
	v.after = last
	var tail []journal.Record
	if err == nil {
		tail, err = jr.Tail(tailLines)
	}
	if err != nil {
		if s := err.Error(); s != v.failed {
			v.failed = s
			d.log.Warn("status: the journal could not be read back", "err", err)
		}
		return nil
	}
	v.failed = ""
	for _, r := range tail {
		st.Journal = append(st.Journal, deskapi.JournalLine{Seq: r.Seq, Time: recordTime(r), Kind: string(r.Kind),
			Account: r.Account, Text: journalText(r)})
	}
	st.Fills = append([]deskapi.Fill(nil), v.fills...)
	st.Kills = append([]deskapi.KillLine(nil), v.kills...)
	out := make(map[string]map[string]int, len(v.rejects))
	for id, m := range v.rejects {
		c := make(map[string]int, len(m))
		for k, n := range m {
			c[k] = n
		}
		out[id] = c
	}
	return out
}

// fold takes one record into the session's view.
func (v *statusView) fold(r journal.Record, known map[string]*account) {
	switch r.Kind {
	case journal.KindSessionReset:
		s, err := r.SessionReset()
		if err != nil {
			return
		}
		// A desk restarted within the session journals a reset of the
		// same session: what the session did so far stays.
		if s.Session != v.session || v.rejects == nil {
			v.session = s.Session
			v.fills, v.kills = v.fills[:0], v.kills[:0]
			v.rejects = map[string]map[string]int{}
			v.strat = map[string]string{}
		}
	case journal.KindIntent:
		b, err := r.IntentBody()
		if err != nil {
			return
		}
		if b.Decision != nil && !b.Decision.Allowed {
			v.reject(r.Account, b.Decision.Reason, known)
			return
		}
		if v.strat == nil || len(v.strat) >= maxStrats {
			v.strat = map[string]string{}
		}
		if id := b.Intent.ID; id != "" {
			v.strat[id] = b.Intent.Strategy
			stop, target := journal.LegIDs(id)
			v.strat[stop], v.strat[target] = b.Intent.Strategy, b.Intent.Strategy
		}
	case journal.KindBrokerError:
		// An intent withdrawn because a kill landed while it was made
		// durable is a rejection (limits.Halted), as the gate's are.
		if e, err := r.BrokerError(); err == nil && e.Op == "withdrawn" {
			v.reject(r.Account, "halted", known)
		}
	case journal.KindBrokerEvent:
		ev, err := r.BrokerEvent()
		if err != nil {
			return
		}
		f, ok := v.fill(r.Seq, ev)
		if ok {
			v.addFill(f)
		}
	case journal.KindReconcile:
		rc, err := r.Reconcile()
		if err != nil || rc.Correction == nil {
			return
		}
		c := rc.Correction
		v.addFill(deskapi.Fill{Seq: r.Seq, Time: nsTime(c.Time), Account: r.Account, Strategy: "desk", ClientID: r.ClientID,
			Role: "correction", Side: c.Side.String(), Qty: c.Qty, Price: c.Price.Points()})
	case journal.KindKill:
		k, err := r.Kill()
		if err != nil {
			return
		}
		v.kills = append(v.kills, deskapi.KillLine{Time: recordTime(r), Scope: k.Scope, Trigger: k.Trigger, Who: k.Who})
	}
}

func (v *statusView) reject(account, reason string, known map[string]*account) {
	if known[account] == nil || reason == "" {
		return
	}
	if v.rejects == nil {
		v.rejects = map[string]map[string]int{}
	}
	m := v.rejects[account]
	if m == nil {
		m = map[string]int{}
		v.rejects[account] = m
	}
	m[reason]++
}

// fill is the blotter's row for a venue event that moved a position: a
// fill, or a bust or correction of one (role "bust", "corrected").
func (v *statusView) fill(seq uint64, ev execution.Event) (deskapi.Fill, bool) {
	role := ""
	switch ev.Kind {
	case execution.FilledEv, execution.PartiallyFilled:
		role = orderRole(ev)
	case execution.BustedEv:
		role = "bust"
	case execution.CorrectedEv:
		role = "corrected"
	default:
		return deskapi.Fill{}, false
	}
	strat := v.strat[ev.ClientID]
	if strat == "" {
		strat = "desk" // liquidations, repairs, orders found at the venue
	}
	return deskapi.Fill{Seq: seq, Time: nsTime(ev.Time), Account: ev.Account, Strategy: strat, ClientID: ev.ClientID,
		Role: role, Side: ev.Side.String(), Qty: ev.FillQty, Price: ev.FillPrice.Points(), Leaves: ev.LeavesQty}, true
}

func (v *statusView) addFill(f deskapi.Fill) {
	if len(v.fills) == blotterFills {
		copy(v.fills, v.fills[1:])
		v.fills = v.fills[:blotterFills-1]
	}
	v.fills = append(v.fills, f)
}

// orderRole names a filled order's place: its bracket role, or what the
// desk placed it for (a liquidation, a repair stop), or "external" for one
// the desk did not place.
func orderRole(ev execution.Event) string {
	switch {
	case ev.External:
		return "external"
	case strings.HasPrefix(ev.ClientID, "liquidate.") || ev.Reason == "liquidate":
		return "liquidation"
	case strings.Contains(ev.ClientID, ".repair."):
		return "repair"
	}
	switch ev.Role {
	case execution.EntryLeg:
		return "entry"
	case execution.StopLeg:
		return "stop"
	case execution.TargetLeg:
		return "target"
	}
	return "single"
}

// recordTime is when a record happened as a person reads it: its market
// time, else when it was appended (RFC 3339 UTC; the reader converts).
func recordTime(r journal.Record) string {
	if r.Market != 0 {
		return nsTime(r.Market)
	}
	return nsTime(r.Wall)
}

func nsTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// journalText is one record summarised for the journal panel.
func journalText(r journal.Record) string {
	s := journalSummary(r)
	if len(s) > maxTailText {
		s = s[:maxTailText] + "…"
	}
	return s
}

func journalSummary(r journal.Record) string {
	switch r.Kind {
	case journal.KindIntent:
		if b, err := r.IntentBody(); err == nil {
			s := intentText(&b.Intent)
			if d := b.Decision; d != nil && !d.Allowed {
				s += " → refused " + d.Reason
				if d.Detail != "" {
					s += ": " + d.Detail
				}
			} else if d != nil {
				s += " → allowed"
			}
			return s
		}
	case journal.KindBrokerEvent:
		if ev, err := r.BrokerEvent(); err == nil {
			s := fmt.Sprintf("%s %s %s", ev.Kind, safeRole(ev.Role), ev.Side)
			switch ev.Kind {
			case execution.FilledEv, execution.PartiallyFilled, execution.BustedEv, execution.CorrectedEv:
				s += fmt.Sprintf(" %d @ %s leaves %d", ev.FillQty, ev.FillPrice, ev.LeavesQty)
			}
			if ev.Reason != "" {
				s += " (" + ev.Reason + ")"
			}
			return s
		}
	case journal.KindBrokerError:
		if e, err := r.BrokerError(); err == nil {
			return strings.TrimSpace(e.Op + " " + e.Err)
		}
	case journal.KindTransition:
		if t, err := r.Transition(); err == nil {
			if t.Refused != "" {
				return fmt.Sprintf("%s %s refused %s in %s: %s", t.Machine, t.ID, t.Event, t.From, t.Refused)
			}
			s := fmt.Sprintf("%s %s %s → %s on %s", t.Machine, t.ID, t.From, t.To, t.Event)
			if t.Why != "" {
				s += " (" + t.Why + ")"
			}
			return strings.Join(strings.Fields(s), " ")
		}
	case journal.KindKill:
		if k, err := r.Kill(); err == nil {
			s := fmt.Sprintf("kill %s by %s (%s), %d accounts", k.Scope, k.Who, k.Trigger, len(k.Accounts))
			if k.Why != "" {
				s += ": " + k.Why
			}
			return s
		}
	case journal.KindLockout:
		if l, err := r.Lockout(); err == nil {
			return fmt.Sprintf("locked out: equity %s at the line %s (start %s)", l.Equity, l.Line, l.Start)
		}
	case journal.KindUnlock, journal.KindRearm, journal.KindClear:
		if a, err := r.Authorization(); err == nil {
			return fmt.Sprintf("%s by %s: %s", r.Kind, a.Who, a.Why)
		}
	case journal.KindSessionReset:
		if s, err := r.SessionReset(); err == nil {
			return strings.TrimSpace("session " + s.Session + " " + s.Why)
		}
	case journal.KindCommand:
		if c, err := r.Command(); err == nil {
			ok := "allowed"
			if !c.Allowed {
				ok = "refused"
			}
			return strings.TrimSpace(fmt.Sprintf("%s from %s by %s: %s %s", c.Command, c.Source, c.Who, ok, c.Detail))
		}
	case journal.KindSnapshot:
		return fmt.Sprintf("snapshot, %d bytes of state", len(r.Body))
	case journal.KindConfigChange:
		if c, err := r.ConfigChange(); err == nil {
			return fmt.Sprintf("%s %s → %s by %s", c.Key, c.From, c.To, c.Who)
		}
	case journal.KindReconcile:
		if rc, err := r.Reconcile(); err == nil {
			s := fmt.Sprintf("reconcile: desk %d, venue %d", rc.JournalPosition, rc.VenuePosition)
			if len(rc.Mismatches) > 0 {
				s += "; " + strings.Join(rc.Mismatches, "; ")
			}
			if c := rc.Correction; c != nil {
				s += fmt.Sprintf("; corrected by %s %d @ %s", c.Side, c.Qty, c.Price)
			}
			return s
		}
	}
	return strings.TrimSpace(string(r.Body))
}

// intentText is an intent as the journal panel says it: what it asks for,
// in its kind's own terms, and the engine's reason.
func intentText(in *intent.Intent) string {
	var s string
	switch in.Kind {
	case intent.Enter, intent.Add:
		s = fmt.Sprintf("%s %s %s %d %s", in.Strategy, in.Kind, in.Side, in.Qty, in.EntryType)
		if in.EntryType != market.MarketOrder {
			s += " @ " + in.Entry.String()
		}
		s += fmt.Sprintf(" stop %s target %s", in.Stop, in.Target)
	case intent.MoveStop:
		s = fmt.Sprintf("%s move_stop %s to %s", in.Strategy, in.Ref, in.Stop)
	case intent.Cancel:
		s = fmt.Sprintf("%s cancel %s", in.Strategy, in.Ref)
	case intent.Exit:
		s = fmt.Sprintf("%s exit %d", in.Strategy, in.Qty)
	default:
		s = in.String()
	}
	if in.Reason != "" {
		s += " (" + in.Reason + ")"
	}
	return s
}

func safeRole(r execution.Role) string {
	if r <= execution.TargetLeg {
		return r.String()
	}
	return fmt.Sprintf("role%d", r)
}
