// Package drill is deskguard's reliability drill: scenarios that inject
// faults (a supervisor killed mid-flight and restarted, worker processes
// killed, stopped, panicking, writing garbage or flooding, a journal on a
// disk that fills up, a Slack outage, a bouncing or cut panic button,
// drawdown breaches at the session's edges, hostile input) while a
// synthetic session trades on several accounts, and an invariant checker
// that after every round compares DESIGN.md's risk invariants with the
// venue's own records (the sim's orders, events and positions), never with
// the desk's view of itself.
//
// Run executes the scenarios and returns one Result per scenario;
// WriteTable prints them. `deskguard drill` and the package's tests are the
// two callers.
//
// It may touch everything it drives: the real desk (supervisor) and its parts (journal files in
// temporary directories, broker/sim, broker/venue on loopback, alerts against a fake Slack, hw's
// simulated button, config, deskapi), and real `deskguard` processes started from the binary it is
// given.
package drill
