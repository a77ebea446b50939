// Package accounts holds a trader sub-account's configuration and its
// ledger: fills → position (signed), FIFO lots with exact cost in ticks,
// realized and unrealized PnL, fees, equity, the session's high-water mark
// and maximum drawdown, and round-trip trade records for reports. It is
// pure: no I/O, no clock, no goroutines. Money leaves the package as
// shopspring decimal.Decimal; inside it is integer ticks and cents. The
// account state machine lives in supervisor (looplab/fsm), not here.
//
// It may touch only market, limits (an account's limit overrides are a limits.Config) and
// shopspring/decimal.
package accounts
