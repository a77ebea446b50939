// Package limits is deskguard's risk gate: pure rules over an account
// snapshot and an intent that answer allow or a typed reason. It also holds
// the drawdown monitors (account and desk lockout lines) and the stop
// coverage check. Nothing here does I/O, reads a clock or starts a
// goroutine: time arrives as nanoseconds in the snapshot, money as integer
// cents, prices as market.Price ticks. Gate.Check does not allocate on the
// accept path.
//
// It may touch only intent, market and shopspring/decimal.
package limits
