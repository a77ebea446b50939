package firm

// kill.go: the firm kill — a signed kill command to every desk over NATS
// request/reply, re-issued (a fresh command: new id, new time, same kill
// id) to each desk until it replies that it is flat. A desk that cannot
// hear (NATS down, partitioned) is flattened when it hears again, or by its
// own manager meanwhile: the firm is never on a desk's kill path, it is one
// more trigger. The firm limits start a kill too.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nuid"
	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/market"
)

// KillState is one firm kill and each desk's answer.
type KillState struct {
	ID      string               `json:"id"`
	Who     string               `json:"who"`
	Reason  string               `json:"reason"`
	Started int64                `json:"started"` // firm wall ns
	Done    bool                 `json:"done"`    // every desk confirmed flat
	Desks   map[string]*DeskKill `json:"desks"`

	done chan struct{} // closed when Done turns true (WaitKill)
}

// finishLocked marks k done (a.mu held).
func (k *KillState) finishLocked() {
	if !k.Done {
		k.Done = true
	}
	if k.done == nil {
		k.done = make(chan struct{})
	}
	select {
	case <-k.done:
	default:
		close(k.done)
	}
}

// DeskKill is one desk's side of a firm kill.
type DeskKill struct {
	Sent    int    `json:"sent"`               // commands issued
	Acked   bool   `json:"acked"`              // the desk accepted the kill
	Flat    bool   `json:"flat"`               // the desk replied flat
	AckedAt int64  `json:"acked_at,omitempty"` // firm wall ns
	FlatAt  int64  `json:"flat_at,omitempty"`
	State   string `json:"state,omitempty"`
	Error   string `json:"error,omitempty"` // the last refusal or transport error
}

// ErrNoKey: the firm has no command key, so it cannot send a kill.
var ErrNoKey = errors.New("firm: no command key configured (deskguard firm keygen)")

// Kill starts a firm kill of every desk the firm knows and returns its id
// at once; each desk's progress is in Kills. who is the firm principal (or
// "limit:..."), reason is journaled by each desk with the command. The
// commands are issued by Run's goroutines (ctx is only the caller's: a
// console request may end at once): a kill started while Run is not
// running is issued when it starts, and one still in progress when Run
// ends is resumed by the next Run, from the state file.
func (a *Aggregator) Kill(ctx context.Context, who, reason string) (string, error) {
	if len(a.opt.Key) == 0 {
		return "", ErrNoKey
	}
	a.mu.Lock()
	k := &KillState{ID: nuid.Next(), Who: who, Reason: reason, Started: a.opt.Clock.Now().UnixNano(), Desks: map[string]*DeskKill{},
		done: make(chan struct{})}
	for _, d := range a.deskNames() {
		k.Desks[d] = &DeskKill{}
	}
	if len(k.Desks) == 0 {
		k.finishLocked()
	}
	a.kills = append(a.kills, k)
	if len(a.kills) > 32 {
		a.kills = a.kills[len(a.kills)-32:]
	}
	issued := a.runCtx != nil
	if issued {
		for d := range k.Desks {
			a.issueLocked(k, d)
		}
	}
	a.mu.Unlock()
	a.log.Warn("firm kill", "kill", k.ID, "who", who, "reason", reason, "desks", len(k.Desks), "issued", issued)
	return k.ID, nil
}

// issueLocked starts desk's side of kill k on Run's goroutines (a.mu held,
// Run running).
func (a *Aggregator) issueLocked(k *KillState, desk string) {
	ctx, wg := a.runCtx, a.runWG
	wg.Add(1)
	go func() { defer wg.Done(); a.killDesk(ctx, k, desk) }()
}

// resumeKillsLocked carries on the kills not seen through: those of a
// previous run of the firm (from the state file), and those started while
// Run was not running (a.mu held, Run starting).
func (a *Aggregator) resumeKillsLocked() {
	for _, k := range a.kills {
		if k.Done {
			continue
		}
		for d, dk := range k.Desks {
			if !dk.Flat {
				a.issueLocked(k, d)
			}
		}
	}
}

// killDesk issues the kill to desk until it replies flat (or ctx ends:
// the firm stops; a restarted firm resumes it from its state file).
func (a *Aggregator) killDesk(ctx context.Context, k *KillState, desk string) {
	for ctx.Err() == nil {
		c := wire.Command{ID: nuid.Next(), KillID: k.ID, Desk: desk, Op: wire.OpKill, Who: k.Who, Reason: k.Reason,
			Issued: a.opt.Clock.Now().UnixNano()}
		c.Sign(a.opt.Key)
		a.mu.Lock()
		k.Desks[desk].Sent++
		a.mu.Unlock()
		rctx, cancel := context.WithTimeout(ctx, a.opt.KillWait)
		m, err := a.opt.Conn.RequestWithContext(rctx, wire.CommandSubject(desk), wire.Marshal(c))
		cancel()
		if err != nil && ctx.Err() != nil {
			return // the firm stops: no error to record, the next run resumes
		}
		var rep wire.Reply
		if err == nil {
			err = json.Unmarshal(m.Data, &rep)
		}
		now := a.opt.Clock.Now().UnixNano()
		a.mu.Lock()
		dk := k.Desks[desk]
		switch {
		case err != nil:
			dk.Error = err.Error()
		case !rep.OK:
			dk.Error = rep.Error
		default:
			dk.Error, dk.State = "", rep.State
			if !dk.Acked {
				dk.Acked, dk.AckedAt = true, now
			}
			if rep.Flat {
				dk.Flat, dk.FlatAt = true, now
			}
		}
		flat := dk.Flat
		if flat {
			done := true
			for _, x := range k.Desks {
				done = done && x.Flat
			}
			if done {
				k.finishLocked()
			}
		}
		a.mu.Unlock()
		if flat {
			a.log.Info("firm kill: desk flat", "kill", k.ID, "desk", desk)
			return
		}
		if err != nil || !rep.OK {
			a.log.Warn("firm kill: desk not reached or refused; re-issuing", "kill", k.ID, "desk", desk, "err", dk.Error)
			t := time.NewTimer(a.opt.KillRetry)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
}

// WaitKill returns kill id once every desk has confirmed flat (a copy of
// it, Done true), or ctx's error. It returns at once for a kill already
// done, and an error for an id the firm does not hold.
func (a *Aggregator) WaitKill(ctx context.Context, id string) (KillState, error) {
	a.mu.RLock()
	var done chan struct{}
	for _, k := range a.kills {
		if k.ID == id {
			done = k.done
		}
	}
	a.mu.RUnlock()
	if done == nil {
		return KillState{}, fmt.Errorf("firm: no kill %s", id)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return KillState{}, fmt.Errorf("firm: kill %s: %w", id, ctx.Err())
	}
	for _, k := range a.Kills() {
		if k.ID == id {
			return k, nil
		}
	}
	return KillState{}, fmt.Errorf("firm: no kill %s", id) // dropped from the last 32 meanwhile
}

// Kills returns the firm's recent kills, newest last (copies).
func (a *Aggregator) Kills() []KillState {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]KillState, 0, len(a.kills))
	for _, k := range a.kills {
		cp := *k
		cp.Desks = map[string]*DeskKill{}
		for d, dk := range k.Desks {
			x := *dk
			cp.Desks[d] = &x
		}
		out = append(out, cp)
	}
	return out
}

// Limits are the firm-wide limits. Zero values are off.
type Limits struct {
	// DailyLoss: when the firm's net (every desk's accounts: realized −
	// fees + unrealized, since their session start) falls to −DailyLoss or
	// below, the firm kills every desk; while it stays there, any desk that
	// holds risk again is killed again. It clears with the desks' session
	// reset.
	DailyLoss decimal.Decimal
	// MaxPosition: when the firm's gross position (Σ |contracts| over every
	// account of every desk) exceeds it, the firm kills every desk.
	MaxPosition int64
}

type limitState struct {
	lossBreached bool
	posBreached  bool
	why          string
}

// checkLimits starts a kill on a breach (no new kill while one is still
// going, or while every desk is already flat).
func (a *Aggregator) checkLimits(ctx context.Context) {
	lim := a.opt.Limits
	if lim.DailyLoss.Sign() <= 0 && lim.MaxPosition <= 0 {
		return
	}
	v := a.View()
	lossLine := -accounts.Cents(lim.DailyLoss)
	loss := lim.DailyLoss.Sign() > 0 && v.NetCents <= lossLine
	pos := lim.MaxPosition > 0 && v.Gross > lim.MaxPosition
	a.mu.Lock()
	killing := false
	for _, k := range a.kills {
		killing = killing || !k.Done
	}
	newBreach := (loss && !a.limit.lossBreached) || (pos && !a.limit.posBreached)
	a.limit.lossBreached, a.limit.posBreached = loss, pos
	a.mu.Unlock()
	risk := v.Gross > 0 || v.Working > 0
	if killing || !(loss || pos) || !(newBreach || risk) {
		return
	}
	who, why := "limit:daily_loss", fmt.Sprintf("firm net %s at or below the daily loss line -%s", accounts.Money(v.NetCents).StringFixed(2),
		lim.DailyLoss.StringFixed(2))
	if !loss {
		who, why = "limit:max_position", fmt.Sprintf("firm gross position %d above the limit %d", v.Gross, lim.MaxPosition)
	}
	if !newBreach && !risk {
		return
	}
	if _, err := a.Kill(ctx, who, why); err != nil {
		a.log.Error("firm limit breached but the kill could not be sent", "why", why, "err", err)
	}
}

// View is the firm at one instant.
type View struct {
	Time     int64       `json:"time"`
	Name     string      `json:"name"`
	Net      string      `json:"net"` // Σ account net since session start, marked
	NetCents int64       `json:"-"`
	Gross    int64       `json:"gross"` // Σ |position|, contracts
	NetPos   int64       `json:"net_position"`
	Working  int         `json:"working_orders"`
	Limits   LimitsView  `json:"limits"`
	Desks    []DeskView  `json:"desks"`
	Kills    []KillState `json:"kills,omitempty"`
	Stats    Stats       `json:"stats"`
}

// LimitsView is the limits and how close the firm is.
type LimitsView struct {
	DailyLoss    string `json:"daily_loss,omitempty"`
	MaxPosition  int64  `json:"max_position,omitempty"`
	LossBreached bool   `json:"loss_breached"`
	PosBreached  bool   `json:"position_breached"`
}

// DeskView is one desk.
type DeskView struct {
	Desk      string        `json:"desk"`
	State     string        `json:"state"`
	LastSeq   uint64        `json:"last_seq"`
	Records   uint64        `json:"records"`
	Gaps      []string      `json:"gaps,omitempty"`
	Held      int           `json:"held,omitempty"` // records that arrived before one they follow, not folded yet
	Errors    []string      `json:"errors,omitempty"`
	Net       string        `json:"net"`
	Gross     int64         `json:"gross"`
	NetPos    int64         `json:"net_position"`
	Mark      float64       `json:"mark"`
	Link      string        `json:"link"` // "up", "down", "never"
	LinkAge   string        `json:"link_age,omitempty"`
	Committed uint64        `json:"committed"` // the desk's journal, per its heartbeat
	Published uint64        `json:"published"`
	Lag       uint64        `json:"lag"` // records the desk has committed that the firm has not folded
	FirmLink  bool          `json:"hears_firm"`
	Accounts  []AccountView `json:"accounts"`
}

// View computes the firm's view: each desk's accounts marked at the
// desk's last heartbeat price.
func (a *Aggregator) View() View {
	now := a.opt.Clock.Now()
	a.mu.RLock()
	defer a.mu.RUnlock()
	v := View{Time: now.UnixNano(), Name: a.opt.Name, Limits: LimitsView{MaxPosition: a.opt.Limits.MaxPosition,
		LossBreached: a.limit.lossBreached, PosBreached: a.limit.posBreached}}
	if a.opt.Limits.DailyLoss.Sign() > 0 {
		v.Limits.DailyLoss = a.opt.Limits.DailyLoss.StringFixed(2)
	}
	for _, d := range a.deskNames() {
		dv := DeskView{Desk: d, Link: "never"}
		var mark market.Price
		if l := a.links[d]; l != nil {
			mark = market.Price(l.Beat.LastPrice)
			dv.Mark = mark.Points()
			age := now.Sub(time.Unix(0, l.Heard))
			dv.Link, dv.LinkAge = "up", age.Round(time.Millisecond).String()
			if age > a.opt.DeskStale {
				dv.Link = "down"
			}
			dv.Committed, dv.Published, dv.FirmLink = l.Beat.Committed, l.Beat.Published, l.Beat.FirmLink
		}
		var net int64
		if bk := a.books[d]; bk != nil {
			dv.State, dv.LastSeq, dv.Records = bk.State, bk.LastSeq, bk.Records
			dv.Gaps, dv.Errors, dv.Held = bk.Gaps, bk.Errors, len(bk.Ahead)
			dv.Accounts = bk.View(mark)
			for _, av := range dv.Accounts {
				net += av.netCents
				dv.Gross += max(av.Position, -av.Position)
				dv.NetPos += av.Position
				v.Working += len(av.Orders)
			}
		}
		if dv.Committed > dv.LastSeq {
			dv.Lag = dv.Committed - dv.LastSeq
		}
		dv.Net = accounts.Money(net).StringFixed(2)
		v.NetCents += net
		v.Gross += dv.Gross
		v.NetPos += dv.NetPos
		v.Desks = append(v.Desks, dv)
	}
	v.Net = accounts.Money(v.NetCents).StringFixed(2)
	v.Stats = Stats{StreamSeq: a.streamSeq, Saved: a.saved.Load(), Applied: a.applied.Load(), Skipped: a.skipped.Load(),
		Consumer: a.consumer.Load().(string)}
	for _, k := range a.kills {
		cp := *k
		cp.Desks = map[string]*DeskKill{}
		for d, dk := range k.Desks {
			x := *dk
			cp.Desks[d] = &x
		}
		v.Kills = append(v.Kills, cp)
	}
	return v
}
