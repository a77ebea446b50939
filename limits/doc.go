// Package limits is deskguard's risk gate: pure rules over an account
// snapshot and an intent that answer allow or a typed reason. It also holds
// the drawdown monitors (account and desk lockout lines and the ladder of
// warning and reduce-only below them), the monitors of the rules added with
// the ladder (trailing and weekly lines, the scaling tier, the session's
// sends, the news blackout's flattens; AccountRules gathers them with a
// JSON state for the desk's snapshots) and the stop coverage check. Nothing
// here does I/O, reads a clock or starts a goroutine: time arrives as
// nanoseconds in the snapshot, money as integer cents, prices as
// market.Price ticks. Gate.Check does not allocate, with every rule on,
// accepting or refusing. docs/risk.md lists every rule with its default,
// reason, key and test.
//
// It may touch only intent, market and shopspring/decimal. (Its
// subpackage calendar reads the news calendar files.)
package limits
