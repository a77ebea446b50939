// This file summarises a data file for `deskguard data summary`: counts,
// volume, first and last time, OHLC, RTH VWAP and cumulative delta, and
// where the aggressor sides came from.

package market

import (
	"errors"
	"io"
	"math"
	"time"
)

// Summary is what `deskguard data summary` prints. Pointer fields are nil
// (JSON null) when the file has nothing to say about them. Prices are index
// points; times RFC 3339 UTC.
type Summary struct {
	Format      string   `json:"format"`
	Symbol      *string  `json:"symbol"`
	Kind        string   `json:"kind"` // "trades" or "bars"
	Records     int64    `json:"records"`
	Trades      *int64   `json:"trades"` // nil for bar files
	Bars        *int64   `json:"bars"`   // nil for trade files
	Volume      int64    `json:"volume"`
	First       *string  `json:"first"`
	Last        *string  `json:"last"`
	Open        *float64 `json:"open"`
	High        *float64 `json:"high"`
	Low         *float64 `json:"low"`
	Close       *float64 `json:"close"`
	RTHVWAP     *float64 `json:"rth_vwap"` // bars: from the typical price (H+L+C)/3
	CumDelta    *int64   `json:"cum_delta"`
	RTHCumDelta *int64   `json:"rth_cum_delta"`
	BuyVolume   *int64   `json:"buy_volume"`
	SellVolume  *int64   `json:"sell_volume"`
	Aggressor   string   `json:"aggressor"` // "data" or "tick-rule"

	// Not in the JSON (the keys are fixed); the text output uses them.
	Path     string `json:"-"`
	Derived  bool   `json:"-"` // deltas come from trades expanded from bars
	Inferred int64  `json:"-"` // trades whose side came from the tick rule
	Unknown  int64  `json:"-"` // trades with no side even after the tick rule
}

// acc accumulates the trade-side statistics.
type acc struct {
	n, vol, buy, sell, rthDelta int64
	rthPV, rthVol               int64
	first, last                 int64
	open, high, low, close      Price
}

func (a *acc) add(t Trade) {
	if a.n == 0 {
		a.first, a.open, a.high, a.low = t.Time, t.Price, t.Price, t.Price
	}
	a.n++
	a.last, a.close = t.Time, t.Price
	a.high, a.low = max(a.high, t.Price), min(a.low, t.Price)
	a.vol += t.Size
	d := t.Size * t.Aggressor.Sign()
	switch t.Aggressor {
	case Buy:
		a.buy += t.Size
	case Sell:
		a.sell += t.Size
	}
	if InRTH(time.Unix(0, t.Time)) {
		a.rthDelta += d
		a.rthPV += int64(t.Price) * t.Size
		a.rthVol += t.Size
	}
}

func ptr[T any](v T) *T { return &v }

func pts(p Price) *float64 { return ptr(p.Points()) }

func rfc(ns int64) *string { return ptr(time.Unix(0, ns).UTC().Format(time.RFC3339Nano)) }

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func (a *acc) fill(s *Summary) {
	if a.n > 0 {
		s.First, s.Last = rfc(a.first), rfc(a.last)
		s.Open, s.High, s.Low, s.Close = pts(a.open), pts(a.high), pts(a.low), pts(a.close)
	}
	s.CumDelta = ptr(a.buy - a.sell)
	if a.rthVol > 0 {
		s.RTHCumDelta = ptr(a.rthDelta)
	}
	s.BuyVolume, s.SellVolume = ptr(a.buy), ptr(a.sell)
	if a.rthVol > 0 {
		s.RTHVWAP = ptr(round6(float64(a.rthPV) / float64(a.rthVol) / TicksPerPoint))
	}
}

func baseSummary(info FeedInfo) Summary {
	s := Summary{Format: info.Format, Kind: info.Kind, Aggressor: info.Aggressor, Path: info.Path, Derived: info.Derived}
	if info.Symbol != "" {
		s.Symbol = ptr(info.Symbol)
	}
	return s
}

// SummarizeTrades reads f to the end.
func SummarizeTrades(f *Feed) (Summary, error) {
	s := baseSummary(f.Info())
	var a acc
	for {
		t, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s, err
		}
		a.add(t)
		if t.Aggressor == Unknown {
			s.Unknown++
		}
	}
	s.Records, s.Trades, s.Volume, s.Inferred = f.Records(), ptr(a.n), a.vol, f.Inferred()
	a.fill(&s)
	return s, nil
}

// SummarizeBars reads b to the end: bar count, volume, OHLC, RTH VWAP from
// the typical price; deltas from the bars' derived trade path with sides by
// the tick rule (Summary.Derived).
func SummarizeBars(b *BarFeed) (Summary, error) {
	s := baseSummary(b.Info())
	s.Derived, s.Aggressor = true, "tick-rule"
	var a acc
	var rule TickRule
	var nBars, vol, rthTPV, rthVol int64
	var first, last int64
	var o, h, l, c Price
	var buf []Trade
	for {
		bar, err := b.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s, err
		}
		if nBars == 0 {
			first, o, h, l = bar.Start, bar.Open, bar.High, bar.Low
		}
		nBars++
		last, c = bar.Start, bar.Close
		h, l = max(h, bar.High), min(l, bar.Low)
		vol += bar.Volume
		if InRTH(time.Unix(0, bar.Start)) {
			rthTPV += int64(bar.High+bar.Low+bar.Close) * bar.Volume
			rthVol += bar.Volume
		}
		buf = ExpandBar(buf[:0], bar)
		for _, t := range buf {
			if rule.Apply(&t) && t.Aggressor != Unknown {
				s.Inferred++
			}
			if t.Aggressor == Unknown {
				s.Unknown++
			}
			a.add(t)
		}
	}
	s.Records, s.Bars, s.Volume = b.Records(), ptr(nBars), vol
	a.fill(&s)
	s.RTHVWAP = nil
	if nBars > 0 {
		s.First, s.Last = rfc(first), rfc(last)
		s.Open, s.High, s.Low, s.Close = pts(o), pts(h), pts(l), pts(c)
	}
	if rthVol > 0 {
		s.RTHVWAP = ptr(round6(float64(rthTPV) / float64(3*rthVol) / TicksPerPoint))
	}
	return s, nil
}

// SummarizeFile opens path and summarises it as trades, or as bars for a
// bar file.
func SummarizeFile(path string, opt OpenOptions) (Summary, error) {
	f, err := Open(path, opt)
	if err != nil {
		return Summary{}, err
	}
	if f.Info().Kind == "bars" {
		f.Close()
		b, err := OpenBars(path, opt)
		if err != nil {
			return Summary{}, err
		}
		defer b.Close()
		return SummarizeBars(b)
	}
	defer f.Close()
	return SummarizeTrades(f)
}
