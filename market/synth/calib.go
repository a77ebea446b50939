// This file holds the generator's calibration: every number the synthetic
// session is tuned to, where it was measured, and the intraday curves.

package synth

// Calibration source: the eleven QuantConnect Lean one-minute ES trade-bar
// files in ../shared/data/es-minute (2013-10-07 … 2013-12-03; CSV rows are
// "ms since midnight UTC,o,h,l,c,volume" with prices in index points, no
// scaling factor; front month = the CSV with the most volume, ESZ3 on every
// day). They were read with archive/zip by a throwaway program (not
// committed) restricted to the 390 RTH minutes 09:30–16:00 New York (13:30–
// 20:00 UTC on EDT, 14:30–21:00 UTC on EST). Measured:
//
//   - per-minute close-to-close change: pooled sd 0.518 points at an index
//     level of ≈1,720, i.e. 3.0e-4 of price (days range 2.2e-4 … 4.2e-4);
//     excess kurtosis 5.7 (fat tails).
//   - by half hour, per-minute relative sd (×1e-4): 3.87 3.46 3.03 2.78 2.87
//     2.31 2.11 2.61 2.32 3.87 2.75 3.06 3.72 (09:30 … 15:30) — U-shaped too.
//   - RTH high−low: 8.75 … 23.0 points, 0.50 % … 1.38 % of price, mean 0.93 %.
//   - open-to-close: up to ±1.17 % (trend days 2013-10-08, -10, -14: ≈1.1 %).
//   - opening range (09:30–10:00) width: 3.75 … 7.75 points (0.22–0.46 %).
//   - share of RTH volume by half hour (mean of the 11 days), below.
//     First half hour / midday (12:00–13:00 mean) = 3.0; last = 2.5.
//
// Trade sizes have no minute-bar source; they come from the ES trade records
// in ../shared/data/es-ticks (esh4 mbo, 2,973 trades: 1 lot 59.6 %, 2 lots
// 15.5 %, 3 5.6 %, 4 4.5 %, 5 2.9 %, p90 7, p99 34, max 89, mean 3.3). The
// generator uses 1–5 lots with 55/16/7/5/4 % and a Pareto tail (α = 1.4,
// from 6 lots, capped at 500) for the other 13 %: mean ≈ 4, p99 ≈ 37.
//
// Levels are scaled to 2024 (MES/ES ≈ 5,000–5,300): relative volatility and
// ranges are kept, index points are not.

// volumeShare is the measured share of RTH volume in each half hour from
// 09:30 to 15:30 (sums to 1.0).
var volumeShare = [13]float64{
	0.1457, 0.1067, 0.0782, 0.0729, 0.0829, 0.0551, 0.0421,
	0.0518, 0.0406, 0.0744, 0.0546, 0.0731, 0.1217,
}

// volShape is the measured per-minute relative sd by half hour (×1e-4).
var volShape = [13]float64{3.87, 3.46, 3.03, 2.78, 2.87, 2.31, 2.11, 2.61, 2.32, 3.87, 2.75, 3.06, 3.72}

const (
	// sigmaRel is the median per-minute relative sd of price (3.0e-4 pooled
	// over the 11 days; days 2.2e-4 … 4.2e-4, see above).
	sigmaRel     = 3.0e-4
	sigmaRelMin  = 2.2e-4
	sigmaRelMax  = 4.2e-4
	sigmaRelDisp = 0.20 // lognormal dispersion of a day's sigma around sigmaRel

	// trendMin/Max is the open-to-close move of a trend day relative to
	// price (measured trend days ≈ 0.8–1.2 %).
	trendMin = 0.006
	trendMax = 0.012

	// rangeHalfLife is the mean-reversion half-life, in minutes, of a range
	// day around its balance price; with sigmaRel it gives day ranges of
	// about 0.5–0.7 %, the quiet end of the measured 0.50–1.38 %.
	rangeHalfLife = 30.0

	// defaultTrades is the expected number of trades of a whole session at
	// Scale 1: DESIGN.md's replay benchmark size ("about a million trades").
	defaultTrades = 1_000_000

	// clusterProb is the chance that a trade print belongs to the same
	// aggressive order as the previous one (same nanosecond, same side): a
	// market order matched against several resting orders prints several
	// trades.
	clusterProb = 0.30

	// openPrice bounds, ticks: 5,050–5,250 points, so trend days stay within
	// about 4,980–5,320 (2024 levels).
	openMinTicks = 5050 * 4
	openMaxTicks = 5250 * 4
)

// sizeCDF is P(size ≤ k | size ≤ 5) for k = 1…5; tailProb is P(size > 5).
var sizeCDF = [5]float64{0.55 / 0.87, 0.71 / 0.87, 0.78 / 0.87, 0.83 / 0.87, 1}

const (
	tailProb  = 0.13
	tailAlpha = 1.4
	tailMin   = 6
	tailCap   = 500
)

// The aggressor model: real tape ties a bar's delta to its price change (a
// move is an aggressive campaign exhausting the other side's queue, and the
// prints around it lean the same way). Measured on the ES trades in
// ../shared/data/es-ticks (esh4 mbo, 2023-12-25 23:00–24:00 UTC, 2,973
// trades; TestRealTapeDeltaFollowsPrice re-measures it): the correlation of
// a bar's close−open with its delta is 0.53 on one-minute bars (60) and
// 0.49 on 10-second bars (326); the delta has the sign of the move on 76 %
// and 80 % of the bars that moved. The generator before this model drew
// each print's side on its own (0.02–0.11 and a coin flip's 49–53 % on
// seeds 1–3), so a breakdown bar's delta was as often positive: the ORB's
// short (which needs net selling) could not see one.
//
// After each price move the campaign's lean moves leanImpulse its way
// (at most leanMax) and decays by leanDecay per print: the buy share of
// prints is (1 + flow + lean)/2, and the book's skew gives back the lean so
// the minute's drift (flow + skew) is unchanged. The minute's planned flow
// is only its noise (and the scripted excursions' and divergences' flow):
// a flow that followed the planned drift bought into falling markets
// whenever price sat below a trend line. The three numbers were chosen by
// trying a handful of values: with them seeds 1–6 give a correlation of
// 0.54–0.66 and the same sign on 69–78 % of one-minute bars
// (TestDeltaFollowsPrice pins a band around the real values).
const (
	leanImpulse = 0.30
	leanDecay   = 1 - 1.0/100
	leanMax     = 0.60
)
