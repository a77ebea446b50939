package supervisor

// machines.go: the desk and account state machines on looplab/fsm, exactly
// as DESIGN.md draws them, with every transition reported to a hook (the
// journal) and illegal ones refused with a typed error.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/looplab/fsm"
)

// Desk states.
const (
	DeskStarting   = "starting"
	DeskRecovering = "recovering"
	DeskRunning    = "running"
	DeskDegraded   = "degraded"
	DeskHalting    = "halting"
	DeskHalted     = "halted"
)

// Desk events.
const (
	EvRecover = "recover" // starting → recovering
	EvReady   = "ready"   // recovering → running
	EvDegrade = "degrade" // running → degraded (data or broker link lost)
	EvRestore = "restore" // degraded → running
	EvHalt    = "halt"    // running/degraded (and recovering) → halting
	EvHalted  = "halted"  // halting → halted
	EvRearm   = "rearm"   // halted → running (desk); halted → idle (account)
)

// Account states.
const (
	AcctIdle      = "idle"
	AcctTrading   = "trading"
	AcctHalting   = "halting"
	AcctHalted    = "halted"
	AcctLockedOut = "locked_out"
	AcctFaulted   = "faulted"
	AcctDisabled  = "disabled"
)

// Account events (EvHalt, EvHalted and EvRearm are shared with the desk).
const (
	EvStart   = "start"   // idle → trading
	EvStop    = "stop"    // trading → idle
	EvLockout = "lockout" // drawdown breach → locked_out
	EvUnlock  = "unlock"  // locked_out → idle (early, by the risk manager, or the session reset)
	EvFault   = "fault"   // reconcile mismatch, worker crash loop → faulted
	EvClear   = "clear"   // faulted → idle (risk manager)
	EvDisable = "disable" // → disabled
	EvEnable  = "enable"  // disabled → idle
)

func deskEvents() fsm.Events {
	return fsm.Events{
		{Name: EvRecover, Src: []string{DeskStarting}, Dst: DeskRecovering},
		{Name: EvReady, Src: []string{DeskRecovering}, Dst: DeskRunning},
		{Name: EvDegrade, Src: []string{DeskRunning}, Dst: DeskDegraded},
		{Name: EvRestore, Src: []string{DeskDegraded}, Dst: DeskRunning},
		// A kill must reach the desk even mid-recovery, so halting is also
		// reachable from recovering (the one addition to DESIGN.md's drawing).
		{Name: EvHalt, Src: []string{DeskRunning, DeskDegraded, DeskRecovering}, Dst: DeskHalting},
		{Name: EvHalted, Src: []string{DeskHalting}, Dst: DeskHalted},
		{Name: EvRearm, Src: []string{DeskHalted}, Dst: DeskRunning},
	}
}

func accountEvents() fsm.Events {
	live := []string{AcctIdle, AcctTrading}
	return fsm.Events{
		{Name: EvStart, Src: []string{AcctIdle}, Dst: AcctTrading},
		{Name: EvStop, Src: []string{AcctTrading}, Dst: AcctIdle},
		{Name: EvHalt, Src: live, Dst: AcctHalting},
		{Name: EvHalted, Src: []string{AcctHalting}, Dst: AcctHalted},
		{Name: EvRearm, Src: []string{AcctHalted}, Dst: AcctIdle},
		{Name: EvLockout, Src: []string{AcctIdle, AcctTrading, AcctHalting, AcctHalted}, Dst: AcctLockedOut},
		{Name: EvUnlock, Src: []string{AcctLockedOut}, Dst: AcctIdle},
		{Name: EvFault, Src: []string{AcctIdle, AcctTrading, AcctHalting, AcctHalted, AcctLockedOut}, Dst: AcctFaulted},
		{Name: EvClear, Src: []string{AcctFaulted}, Dst: AcctIdle},
		{Name: EvDisable, Src: []string{AcctIdle, AcctHalted, AcctFaulted}, Dst: AcctDisabled},
		{Name: EvEnable, Src: []string{AcctDisabled}, Dst: AcctIdle},
	}
}

// Transition is one state change, as journaled.
type Transition struct {
	Machine string // "desk" or "account"
	ID      string // account id; "desk" for the desk
	From    string
	To      string
	Event   string
	Why     string
}

// TransitionError is an illegal transition: the event is not allowed from
// the machine's current state.
type TransitionError struct {
	Machine, ID, From, Event string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("supervisor: %s %s: event %q is not allowed in state %q", e.Machine, e.ID, e.Event, e.From)
}

// Machine wraps a looplab/fsm machine so that every transition is reported
// and no context can leave it stuck mid-transition.
type Machine struct {
	kind  string
	id    string
	state atomic.Value // string: the current state, read without a lock
	mu    sync.Mutex
	f     *fsm.FSM
	hook  func(Transition)
	// illegal is told of refused events so they can be logged and journaled.
	illegal func(*TransitionError)
}

// NewDeskMachine returns the desk machine in state starting.
func NewDeskMachine(hook func(Transition), illegal func(*TransitionError)) *Machine {
	return newMachine("desk", "desk", DeskStarting, deskEvents(), hook, illegal)
}

// NewAccountMachine returns an account machine in state initial (idle,
// or a recovered state such as locked_out).
func NewAccountMachine(id, initial string, hook func(Transition), illegal func(*TransitionError)) *Machine {
	if initial == "" {
		initial = AcctIdle
	}
	return newMachine("account", id, initial, accountEvents(), hook, illegal)
}

func newMachine(kind, id, initial string, ev fsm.Events, hook func(Transition), illegal func(*TransitionError)) *Machine {
	m := &Machine{kind: kind, id: id, f: fsm.NewFSM(initial, ev, fsm.Callbacks{}), hook: hook, illegal: illegal}
	m.state.Store(initial)
	return m
}

// State returns the current state. It takes no lock (the kill path reads it).
func (m *Machine) State() string { return m.state.Load().(string) }

// Can reports whether ev is allowed now.
func (m *Machine) Can(ev string) bool { return m.f.Can(ev) }

// Fire applies ev. It returns a *TransitionError when ev is not allowed in
// the current state. Firing never uses the caller's cancellation (LIBRARIES.md:
// a cancelled context would leave looplab/fsm stuck in transition).
func (m *Machine) Fire(ev, why string) error {
	m.mu.Lock()
	from := m.f.Current()
	err := m.f.Event(context.Background(), ev)
	to := m.f.Current()
	m.state.Store(to)
	m.mu.Unlock()
	if err != nil {
		var noTr fsm.NoTransitionError
		if errors.As(err, &noTr) {
			return nil
		}
		te := &TransitionError{Machine: m.kind, ID: m.id, From: from, Event: ev}
		if m.illegal != nil {
			m.illegal(te)
		}
		return te
	}
	if m.hook != nil {
		m.hook(Transition{Machine: m.kind, ID: m.id, From: from, To: to, Event: ev, Why: why})
	}
	return nil
}

// Mermaid draws the machine from its live definition as a Mermaid
// stateDiagram-v2.
func (m *Machine) Mermaid() (string, error) {
	return fsm.VisualizeWithType(m.f, fsm.MermaidStateDiagram)
}

// DeskMermaid and AccountMermaid draw fresh machines for `deskguard fsm`.
func DeskMermaid() (string, error) { return NewDeskMachine(nil, nil).Mermaid() }

// AccountMermaid draws the account machine.
func AccountMermaid() (string, error) { return NewAccountMachine("ACCOUNT", "", nil, nil).Mermaid() }
