// Package supervisor joins deskguard's parts into the desk: the desk and
// account state machines, the three paths of DESIGN.md — the tick path
// (tick.go), the intent path (intent.go: gate → journal → broker, then
// events.go) and the kill path (kill.go: one kill(scope, trigger) for every
// trigger) — stop coverage, the session and its schedule, the manager's
// acts, the risk rules' consequences (rules.go: the ladder, the trailing
// and weekly lines, the tier, the news blackout, self-match's view of the
// other accounts), and recovery and reconciliation. The engines run in package
// workerhost (worker processes, or in-process for replays).
//
// It may touch accounts, limits, strategies, intent, market, journal
// (through its Journal port), broker (through its Broker interface),
// alert (the vocabulary; delivered through its Alerter port), deskapi, authz (its
// reason rule, for the acts it checks itself), supervisor/wire,
// supervisor/workerhost, looplab/fsm and robfig/cron; nothing over the
// network itself. alerts, hw and console reach it only through the small
// interfaces they declare.
package supervisor
