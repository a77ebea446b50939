// Package synth generates a seeded synthetic regular-trading-hours session
// of MES trades with aggressor sides, for demos, replays and benchmarks when
// no real tick data is at hand.
//
// The session runs 09:30–16:00 America/New_York. Volume follows the U-shaped
// intraday curve and volatility the intraday shape measured on real ES minute
// bars (see calib.go for every number and its source). Trades print at the
// bid (sell aggressor) or the ask (buy aggressor) of a one-tick-wide book
// whose level moves after trades; several prints may share a nanosecond when
// one aggressive order sweeps several resting orders. As on real tape a
// bar's delta follows its price change: the prints around a move lean its
// way (calib.go measures both on real ES trades). A day is a trend day
// (a drifting fair value with noisy pullbacks), a range day (mean reversion
// around a balance price, with excursions to VWAP ±2σ that end in a reversal
// candle and a cumulative-delta divergence), or mixed (one then the other).
// Some seeds gap several points on a news minute; the opening range
// (09:30–10:00) is broken with a volume surge whenever price leaves it.
//
// Same Options, same trades: everything is drawn from one PCG stream seeded
// from Options.Seed, and nothing reads the wall clock. (The exact stream is
// tied to math/rand/v2's algorithms and float behaviour; the golden test
// pins it.) The Reader holds constant memory however many trades it emits.
//
// It may touch only market and math/rand/v2: no files, no clock; WriteCSV writes
// only to the writer it is given.
package synth

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/deskguard/deskguard/market"
)

// Regime is the character of the generated day.
type Regime string

// Regimes.
const (
	Trend Regime = "trend"
	Range Regime = "range"
	Mixed Regime = "mixed"
)

// Options selects the session to generate.
type Options struct {
	Seed   int64
	Regime Regime         // "" = Mixed
	Date   market.Session // zero = DefaultDate
	Scale  float64        // volume multiplier; 0 = 1 (about a million trades)
}

// DefaultDate is the session generated when Options.Date is zero (a Tuesday).
var DefaultDate = market.Session{Year: 2024, Month: time.March, Day: 12}

// ErrOptions is wrapped by every error NewReader returns for bad Options.
var ErrOptions = errors.New("synth: bad options")

// MaxScale bounds Options.Scale (100 million trades).
const MaxScale = 100

const (
	sessionMinutes = (market.RTHCloseHM - market.RTHOpenHM) // 390
	minuteNs       = int64(time.Minute)
)

type episode int

const (
	epNone episode = iota
	epPush
	epReversal
	epRevert
)

type span struct{ from, to int }

// plan is what a seed decides before the first trade.
type plan struct {
	regime    Regime
	first     Regime // for mixed: the morning's character
	switchAt  int    // for mixed: the minute the afternoon starts
	dir       int64  // trend direction, ±1
	trendRel  float64
	sigma     float64 // per-minute relative sd of the day
	gapMinute int     // -1 = no gap
	gapTicks  int64   // signed
	excursion []int   // range days: minutes an excursion to a VWAP band starts
	diverge   []span  // trend phases: minutes with flow against the price
	orHolds   bool    // range days: the opening range is never left
}

// Reader streams one generated session. It is not safe for concurrent use.
type Reader struct {
	rng   *rand.Rand
	plan  plan
	curve [sessionMinutes]float64 // expected trades per minute before noise and boosts

	open     int64 // RTH open, ns
	minute   int   // current minute index, -1 before the first
	minStart int64
	minEnd   int64
	t        int64
	rate     float64 // arrivals per ns in this minute
	done     bool
	seq      uint64

	bid      int64 // ticks; ask = bid+1
	step     int64 // ticks per book move
	pMove    float64
	k        float64 // the book's skew: a buy moves it with pMove·(1+k), a sell with pMove·(1−k)
	lean     float64 // the aggressive campaign's lean: prints around a price move lean its way (calib.go)
	flow     float64 // buy share − sell share of arrivals, in [-1,1]
	tail     float64 // P(size > 5)
	volZ     float64 // AR(1) state of the volume noise
	cont     bool    // next print continues the previous aggressive order
	lastSide market.Side
	bigNext  int64 // size of the next print if > 0 (gap sweep)

	// the current minute's expected trades and book volatility, kept for the
	// reversal candle's second half
	expN    float64
	sigmaSq float64
	switchT int64 // reversal candle: time its second half starts (0 = none)
	mu2     float64
	flow2   float64

	// phase anchors
	phase     Regime
	anchor    float64 // range: balance price, ticks
	lineStart float64 // trend: the fair-value line's start price and minute
	lineMin   int

	// session statistics
	vol, pv, p2v   int64
	orHigh, orLow  int64
	orBroken       bool
	surgeLeft      int
	ep             episode
	epDir          int64
	epTarget       float64
	epUntil        int
	nextExcursion  int
	spike, reverse float64
}

// NewReader validates o and returns a Reader positioned before the first
// trade of the session.
func NewReader(o Options) (*Reader, error) {
	if o.Regime == "" {
		o.Regime = Mixed
	}
	switch o.Regime {
	case Trend, Range, Mixed:
	default:
		return nil, fmt.Errorf("%w: regime %q: want trend, range or mixed", ErrOptions, o.Regime)
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	if math.IsNaN(o.Scale) || o.Scale < 0 || o.Scale > MaxScale {
		return nil, fmt.Errorf("%w: scale %v: want 0 < scale ≤ %d", ErrOptions, o.Scale, MaxScale)
	}
	if o.Date == (market.Session{}) {
		o.Date = DefaultDate
	}
	d := o.Date.Date()
	if d.Year() != o.Date.Year || d.Month() != o.Date.Month || d.Day() != o.Date.Day {
		return nil, fmt.Errorf("%w: date %d-%02d-%02d does not exist", ErrOptions, o.Date.Year, int(o.Date.Month), o.Date.Day)
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return nil, fmt.Errorf("%w: date %s is a %s: RTH is on weekdays", ErrOptions, o.Date, wd)
	}
	if d.Year() < 1700 || d.Year() > 2200 {
		return nil, fmt.Errorf("%w: date %s: year outside 1700–2200", ErrOptions, o.Date)
	}

	seed := uint64(o.Seed)
	r := &Reader{
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		open:   o.Date.RTHOpen().UnixNano(),
		minute: -1,
		step:   1,
		tail:   tailProb,
	}
	r.makePlan(o.Regime)
	r.makeCurve(float64(defaultTrades) * o.Scale)
	r.bid = openMinTicks + r.rng.Int64N(openMaxTicks-openMinTicks+1)
	r.orHigh, r.orLow = r.bid, r.bid
	r.t = r.open
	return r, nil
}

func (r *Reader) makePlan(regime Regime) {
	rng := r.rng
	p := plan{regime: regime, gapMinute: -1, switchAt: sessionMinutes}
	p.dir = 1
	if rng.IntN(2) == 0 {
		p.dir = -1
	}
	p.sigma = sigmaRel * math.Exp(sigmaRelDisp*rng.NormFloat64())
	p.sigma = min(max(p.sigma, sigmaRelMin), sigmaRelMax)
	p.trendRel = trendMin + (trendMax-trendMin)*rng.Float64()
	p.first = regime
	if regime == Mixed {
		p.first = Trend
		if rng.IntN(2) == 0 {
			p.first = Range
		}
		p.switchAt = 120 + rng.IntN(121) // 11:30–13:30
		p.trendRel *= 0.7                // a shorter trend phase moves less
	}
	p.orHolds = regime == Range && rng.Float64() < 0.4
	if !p.orHolds && rng.Float64() < 0.3 {
		p.gapMinute = 30 // 10:00, the usual data release
		if rng.IntN(2) == 0 {
			p.gapMinute = 45 + rng.IntN(286)
		}
		g := int64(12 + rng.IntN(21)) // 3–8 points
		if rng.IntN(2) == 0 {
			g = -g
		}
		p.gapTicks = g
	}
	// Range phases: two or three excursions to a VWAP band, an hour apart.
	n := 2 + rng.IntN(2)
	m := 60 + rng.IntN(30)
	for range n {
		if m > sessionMinutes-45 {
			break
		}
		p.excursion = append(p.excursion, m)
		m += 60 + rng.IntN(60)
	}
	// Trend phases: one or two stretches where flow runs against price.
	for range 1 + rng.IntN(2) {
		from := 40 + rng.IntN(300)
		p.diverge = append(p.diverge, span{from, from + 12 + rng.IntN(20)})
	}
	r.plan = p
}

// makeCurve spreads total expected trades over the 390 minutes along the
// measured half-hour volume shares, linearly interpolated between the
// half-hour centres.
func (r *Reader) makeCurve(total float64) {
	sum := 0.0
	for m := range sessionMinutes {
		x := (float64(m) + 0.5 - 15) / 30 // position in half-hour units from the first centre
		var v float64
		switch {
		case x <= 0:
			v = volumeShare[0]
		case x >= float64(len(volumeShare)-1):
			v = volumeShare[len(volumeShare)-1]
		default:
			i := int(x)
			f := x - float64(i)
			v = volumeShare[i]*(1-f) + volumeShare[i+1]*f
		}
		r.curve[m] = v
		sum += v
	}
	for m := range r.curve {
		r.curve[m] *= total / sum
	}
}

// regimeAt returns the character of minute m.
func (p *plan) regimeAt(m int) Regime {
	if p.regime != Mixed {
		return p.regime
	}
	if m < p.switchAt {
		return p.first
	}
	if p.first == Trend {
		return Range
	}
	return Trend
}

func (r *Reader) vwap() (mean, sd float64) {
	if r.vol == 0 {
		return float64(r.bid), 0
	}
	v := float64(r.vol)
	mean = float64(r.pv) / v
	vr := float64(r.p2v)/v - mean*mean
	if vr < 0 {
		vr = 0
	}
	return mean, math.Sqrt(vr)
}

// startMinute sets up minute m: its expected trade count, book volatility,
// drift and order flow. It returns false after the last minute.
func (r *Reader) startMinute(m int) bool {
	if m >= sessionMinutes {
		return false
	}
	r.minute = m
	r.minStart = r.open + int64(m)*minuteNs
	r.minEnd = r.minStart + minuteNs
	r.switchT = 0
	p := &r.plan
	bid := float64(r.bid)

	// Phase changes.
	if ph := p.regimeAt(m); ph != r.phase {
		r.phase = ph
		r.anchor = bid
		r.lineStart, r.lineMin = bid, m
		r.ep = epNone
	}

	// Volume: the curve, AR(1) lognormal noise, and boosts.
	const noiseSD = 0.25
	r.volZ = 0.6*r.volZ + 0.8*r.rng.NormFloat64()
	n := r.curve[m] * math.Exp(noiseSD*r.volZ-noiseSD*noiseSD/2)
	boost := 1.0
	if r.surgeLeft > 0 {
		boost += 1.2 * float64(r.surgeLeft) / 10
		r.surgeLeft--
	}

	// Volatility: the day's sigma, shaped by the half hour, in ticks.
	shape := volShape[m/30] / 2.98 // 2.98 = mean of volShape
	sigma := p.sigma * shape * bid
	flowNoise := 0.03 * r.rng.NormFloat64()

	var mu, flow float64 // drift in ticks per minute; flow bias
	set := false
	switch r.phase {
	case Trend:
		per := float64(p.dir) * p.trendRel * r.lineStart / float64(sessionMinutes-r.lineMin)
		if r.plan.regime == Mixed {
			per = float64(p.dir) * p.trendRel * r.lineStart / float64(sessionMinutes/2)
		}
		line := r.lineStart + per*float64(m-r.lineMin)
		mu = per - (bid-line)*math.Ln2/40
		for _, s := range p.diverge {
			if m >= s.from && m < s.to {
				flow, set = -float64(p.dir)*0.15, true
			}
		}
	case Range:
		hl := rangeHalfLife
		if p.orHolds && m >= 30 {
			if m == 30 { // the book may have ticked past the range after its last print
				r.bid = min(max(r.bid, r.orLow), r.orHigh-1)
				bid = float64(r.bid)
			}
			r.anchor = float64(r.orHigh+r.orLow) / 2
			hl = rangeHalfLife / 2
		} else {
			r.anchor += 0.02 * (r.vwapOr(bid) - r.anchor)
		}
		mu = -(bid - r.anchor) * math.Ln2 / hl
		mu, flow, set, sigma, boost = r.excursion(m, bid, mu, sigma, boost)
	}
	if !set {
		flow = flowNoise // the lean ties the prints to the moves (calib.go)
	}

	// Gap: the book jumps before the minute's first print, which sweeps.
	if m == p.gapMinute {
		r.bid += p.gapTicks
		boost *= 3
		r.bigNext = 20 + r.rng.Int64N(131)
		r.cont = false
		r.lastSide = market.Buy
		if p.gapTicks < 0 {
			r.lastSide = market.Sell
		}
	}

	r.expN = max(n*boost, 1)
	r.rate = r.expN * (1 - clusterProb) / float64(minuteNs)
	r.sigmaSq = sigma * sigma
	r.setBook(mu, flow)
	return true
}

func (r *Reader) vwapOr(bid float64) float64 {
	if r.vol == 0 {
		return bid
	}
	v, _ := r.vwap()
	return v
}

// excursion runs the range-day script: push to VWAP ± 2.3σ with a delta
// divergence, a reversal candle, then reversion to VWAP.
func (r *Reader) excursion(m int, bid, mu, sigma, boost float64) (float64, float64, bool, float64, float64) {
	p := &r.plan
	if r.plan.regime != Range {
		return mu, 0, false, sigma, boost
	}
	vw, sd := r.vwap()
	switch r.ep {
	case epNone:
		if r.nextExcursion < len(p.excursion) && m >= p.excursion[r.nextExcursion] {
			r.nextExcursion++
			r.ep, r.epUntil = epPush, m+15
			r.epDir = 1
			if bid < vw {
				r.epDir = -1
			}
			r.epTarget = vw + float64(r.epDir)*max(2.3*sd, 24)
			if p.orHolds {
				r.epTarget = min(max(r.epTarget, float64(r.orLow+1)), float64(r.orHigh-2))
			}
		}
	case epPush:
		if float64(r.epDir)*(bid-r.epTarget) >= 0 || m >= r.epUntil {
			r.ep = epReversal
			r.spike = float64(3 + r.rng.IntN(6))
			r.reverse = r.spike + float64(8+r.rng.IntN(9))
		}
	case epReversal:
		r.ep, r.epUntil = epRevert, m+25
	case epRevert:
		if m >= r.epUntil {
			r.ep = epNone
			r.anchor = vw
		}
	}
	d := float64(r.epDir)
	switch r.ep {
	case epPush:
		mu = min(max((r.epTarget+d*2-bid)/4, -3*sigma), 3*sigma)
		if m >= r.epUntil-12 { // after the first few minutes, flow fades
			return mu, -d * 0.15, true, sigma, boost * 1.3
		}
		return mu, d * 0.15, true, sigma, boost * 1.3
	case epReversal:
		// First 35 % of the minute: spike further; the rest: fall back.
		r.switchT = r.minStart + minuteNs*35/100
		r.mu2, r.flow2 = -d*r.reverse/0.65, -d*0.25
		return d * r.spike / 0.35, d * 0.2, true, 2 * sigma, boost * 2.5
	case epRevert:
		return -(bid - vw) / 12, -d * 0.1, true, sigma, boost
	}
	return mu, 0, false, sigma, boost
}

// setBook turns a drift (ticks per minute) and a flow bias into per-print
// move probabilities.
func (r *Reader) setBook(mu, flow float64) {
	n := r.expN
	r.step = 1
	if q := r.sigmaSq / n; q > 0.5 {
		r.step = int64(math.Ceil(math.Sqrt(2 * q)))
	}
	st := float64(r.step)
	r.pMove = r.sigmaSq / (n * st * st)
	r.flow = min(max(flow, -0.9), 0.9)
	k := (mu/n)/(r.pMove*st) - r.flow
	r.k = min(max(k, -0.98), 0.98)
}

func (r *Reader) size() int64 {
	u := r.rng.Float64()
	if u >= r.tail {
		v := (u - r.tail) / (1 - r.tail)
		for i, c := range sizeCDF {
			if v < c {
				return int64(i + 1)
			}
		}
		return 5
	}
	x := float64(tailMin) * math.Pow(1-r.rng.Float64(), -1/tailAlpha)
	return min(int64(x), tailCap)
}

// Next returns the next trade, or io.EOF after 16:00.
func (r *Reader) Next() (market.Trade, error) {
	if r.done {
		return market.Trade{}, io.EOF
	}
	if r.minute < 0 {
		r.startMinute(0)
	}
	side := r.lastSide
	if !r.cont {
		for {
			r.t += int64(r.rng.ExpFloat64() / r.rate)
			if r.t < r.minEnd {
				break
			}
			if !r.startMinute(r.minute + 1) {
				r.done = true
				return market.Trade{}, io.EOF
			}
			r.t = r.minStart
		}
		if r.bigNext == 0 {
			side = market.Sell
			if r.rng.Float64() < (1+min(max(r.flow+r.lean, -0.95), 0.95))/2 {
				side = market.Buy
			}
		}
	}
	if r.switchT != 0 && r.t >= r.switchT {
		r.switchT = 0
		r.setBook(r.mu2, r.flow2)
	}
	sz := r.bigNext
	if sz > 0 {
		r.bigNext = 0
	} else {
		sz = r.size()
	}
	px := r.bid
	// The lean tilts which side prints, and the book's skew is taken back
	// by as much, so the drift (flow + skew) and the volatility are the
	// minute's as planned: what changes is that the prints around a move
	// lean its way, as on real tape.
	kk := min(max(r.k-r.lean, -0.98), 0.98)
	move := r.pMove * (1 - kk)
	if side == market.Buy {
		px++
		move = r.pMove * (1 + kk)
	}
	r.lean *= leanDecay
	if r.rng.Float64() < move {
		nb := r.bid + int64(side)*r.step
		if !r.plan.orHolds || r.minute < 30 || (nb >= r.orLow && nb < r.orHigh) {
			r.bid = nb
		}
		r.lean = min(max(r.lean+leanImpulse*float64(side), -leanMax), leanMax)
	}
	r.cont = r.rng.Float64() < clusterProb
	r.lastSide = side
	r.seq++

	r.vol += sz
	r.pv += px * sz
	r.p2v += px * px * sz
	if r.minute < 30 {
		r.orHigh, r.orLow = max(r.orHigh, px), min(r.orLow, px)
	} else if !r.orBroken && (px > r.orHigh || px < r.orLow) {
		r.orBroken = true
		r.surgeLeft = 10
		r.rate *= 2.2
		r.tail = 0.2
	}
	if r.surgeLeft == 0 {
		r.tail = tailProb
	}
	return market.Trade{Time: r.t, Price: market.Price(px), Size: sz, Aggressor: side, Seq: r.seq}, nil
}

// Generate returns the whole session in memory (about 40 MB at Scale 1).
func Generate(o Options) ([]market.Trade, error) {
	r, err := NewReader(o)
	if err != nil {
		return nil, err
	}
	scale := o.Scale
	if scale == 0 {
		scale = 1
	}
	out := make([]market.Trade, 0, int(float64(defaultTrades)*scale*1.1)+16)
	for {
		t, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
}
