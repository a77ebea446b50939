// Package market is deskguard's model of the CME Micro E-mini S&P 500 (MES):
// prices counted in ticks, aggressor sides, trades, bars, the contract spec
// and contract months, the America/New_York session calendar and the Clock
// every other package reads time from. Its readers (DBN, Lean minute zips,
// CSV ticks) stream real data into the same Trade type.
//
// It may touch only the data files its readers are asked to open (os),
// klauspost/compress/zstd and shopspring/decimal: no network, no goroutines.
package market
