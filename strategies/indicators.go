// indicators.go: the indicators every engine shares, owned and fed by the
// Runner: RTH session bounds, 1- and 5-minute bars, VWAP and σ, volume
// profile, cumulative delta, per-minute VWAP history (for its slope) and the
// average volume of the session's completed 5-minute bars.

package strategies

import (
	"time"

	"github.com/deskguard/deskguard/market"
)

// Indicators is the shared market state of one session (RTH, from 09:30
// ET). Engines read it; only the Runner writes it. When an engine's OnBar
// runs for a bar, every indicator reflects exactly the trades up to that
// bar's end; the 5-minute average excludes the bar being delivered.
type Indicators struct {
	Session      market.Session
	RTHOpen      int64 // ns UTC of 09:30 ET
	RTHClose     int64 // ns UTC of 16:00 ET
	Now          int64 // time of the trade being processed (or the bar end at a flush)
	Last         market.Price
	VWAP         VWAP
	Profile      Profile
	CD           int64 // cumulative delta from 09:30: Σ size × aggressor sign
	Bars1        *market.BarBuilder
	Bars5        *market.BarBuilder
	vwapByMinute []float64 // VWAP at the end of minute m after the open (index m, 1-based; 0 unused)
	firstMinute  int       // first m with a VWAP
	lastMinute   int       // last m recorded
	vol5Sum      int64
	vol5N        int64
	vol5         []int64   // this session's completed 5-minute bar volumes, by slot after the open (-1 = no bar)
	slotHist     [][]int64 // prior sessions' vol5, oldest first, at most maxSlotSessions
}

// maxSlotSessions is how many prior sessions' 5-minute volumes the
// indicators keep for the time-of-day baseline (ORBConfig.VolumeSessions
// may use fewer).
const maxSlotSessions = 20

func newIndicators() *Indicators {
	return &Indicators{
		Bars1:        market.NewBarBuilder(time.Minute),
		Bars5:        market.NewBarBuilder(5 * time.Minute),
		vwapByMinute: make([]float64, 0, 400),
	}
}

func (x *Indicators) reset(s market.Session) {
	x.Session = s
	x.RTHOpen = s.RTHOpen().UnixNano()
	x.RTHClose = s.RTHClose().UnixNano()
	x.Last = 0
	x.VWAP.Reset()
	x.Profile.Reset()
	x.CD = 0
	x.Bars1.Flush()
	x.Bars5.Flush()
	x.vwapByMinute = x.vwapByMinute[:0]
	x.firstMinute, x.lastMinute = 0, 0
	x.vol5Sum, x.vol5N = 0, 0
	if len(x.vol5) > 0 { // the session that ends becomes history
		if len(x.slotHist) == maxSlotSessions {
			x.slotHist = append(x.slotHist[:0], x.slotHist[1:]...)
		}
		x.slotHist = append(x.slotHist, append([]int64(nil), x.vol5...))
		x.vol5 = x.vol5[:0]
	}
}

// At returns the ns UTC time of the New York wall clock hm on the session's
// trade date.
func (x *Indicators) At(hm HM) int64 {
	return x.Session.At(int(hm)/60, int(hm)%60).UnixNano()
}

func (x *Indicators) addTrade(t market.Trade) {
	x.Last = t.Price
	x.VWAP.Add(t.Price, t.Size)
	x.Profile.Add(t.Price, t.Size)
	x.CD += t.Size * t.Aggressor.Sign()
}

// closeBar1 records the VWAP at the end of a 1-minute bar.
func (x *Indicators) closeBar1(b market.Bar) {
	v, ok := x.VWAP.Value()
	if !ok {
		return
	}
	m := int((b.End() - x.RTHOpen) / int64(time.Minute))
	if m < 1 {
		return
	}
	// Minutes without trades carry the last VWAP known before them forward
	// (not the VWAP after the gap: that would read a move across a quiet
	// spell as flat).
	carry := v
	if x.firstMinute != 0 {
		carry = x.vwapByMinute[x.lastMinute]
	}
	for len(x.vwapByMinute) <= m {
		x.vwapByMinute = append(x.vwapByMinute, carry)
	}
	if x.firstMinute == 0 {
		for i := range x.vwapByMinute {
			x.vwapByMinute[i] = v
		}
		x.firstMinute = m
	}
	x.vwapByMinute[m] = v
	x.lastMinute = m
}

func (x *Indicators) closeBar5(b market.Bar) {
	x.vol5Sum += b.Volume
	x.vol5N++
	slot := int((b.Start - x.RTHOpen) / int64(5*time.Minute))
	if slot < 0 {
		return
	}
	for len(x.vol5) <= slot {
		x.vol5 = append(x.vol5, -1)
	}
	x.vol5[slot] = b.Volume
}

// AvgLast5mVolume is the mean volume of the last n completed 5-minute bars
// of the session (excluding the bar being delivered to OnBar) and how many
// bars it averaged (fewer than n early in the session).
func (x *Indicators) AvgLast5mVolume(n int) (float64, int64) {
	var sum, k int64
	for i := len(x.vol5) - 1; i >= 0 && k < int64(n); i-- {
		if x.vol5[i] >= 0 {
			sum += x.vol5[i]
			k++
		}
	}
	if k == 0 {
		return 0, 0
	}
	return float64(sum) / float64(k), k
}

// Slot5mVolume is the mean volume of the 5-minute bar that starts at start
// (its slot after the RTH open) over up to the last sessions prior sessions
// that had a bar there, and how many sessions it averaged: relative volume
// by time of day, which does not compare a 10:00 breakout with the heavy open.
func (x *Indicators) Slot5mVolume(start int64, sessions int) (float64, int64) {
	slot := int((start - x.RTHOpen) / int64(5*time.Minute))
	if slot < 0 {
		return 0, 0
	}
	var sum, k int64
	for i := len(x.slotHist) - 1; i >= 0 && k < int64(sessions); i-- {
		if h := x.slotHist[i]; slot < len(h) && h[slot] >= 0 {
			sum += h[slot]
			k++
		}
	}
	if k == 0 {
		return 0, 0
	}
	return float64(sum) / float64(k), k
}

// Avg5mVolume is the mean volume of the session's completed 5-minute bars
// (excluding the bar being delivered to OnBar) and how many there were.
func (x *Indicators) Avg5mVolume() (float64, int64) {
	if x.vol5N == 0 {
		return 0, 0
	}
	return float64(x.vol5Sum) / float64(x.vol5N), x.vol5N
}

// VWAPSlope is the VWAP's change per minute, in ticks, over the last window
// minutes ending at the latest closed 1-minute bar. Early in the session,
// with fewer than window minutes of VWAP, it uses the minutes there are.
// ok is false before two minutes of VWAP exist.
func (x *Indicators) VWAPSlope(window int) (float64, bool) {
	m := x.lastMinute
	if x.firstMinute == 0 || m <= x.firstMinute || window < 1 {
		return 0, false
	}
	from := m - window
	if from < x.firstMinute {
		from = x.firstMinute
	}
	return (x.vwapByMinute[m] - x.vwapByMinute[from]) / float64(m-from), true
}
