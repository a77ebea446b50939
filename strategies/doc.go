// Package strategies holds the desk's strategy engines and the indicators
// they share: session VWAP with volume-weighted σ bands, the developing
// volume profile (point of control, 70% value area, high-volume nodes),
// cumulative delta, the opening range, swing highs and lows, reversal
// candles, round numbers and the average five-minute volume.
//
// Engines (orb, vwapmr, delta) are pure: trades and bars in, intents out.
// They do no I/O and have no clock of their own; time is the trades'
// timestamps, so the same engine gives the same intents in a replay, a
// child worker and a test. A Runner owns the bar builders and the shared
// indicators and feeds every engine in one fixed order; every host uses it.
//
// It may touch only intent and market: it imports nothing of broker, journal,
// supervisor or limits (an engine proposes, it never sends).
package strategies
