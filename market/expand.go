// This file expands one-minute bars into a conservative trade path so that
// bar files can drive the trade-driven code downstream (strategies, the sim
// venue). Trades made here are derived, never real prints: Feed.Info says
// so and every summary repeats it.

package market

// BarReader streams bars. Next returns io.EOF after the last bar.
type BarReader interface {
	Next() (Bar, error)
}

// ExpandBar appends to dst the derived trades of one bar: the path open →
// the extreme nearer the open → the farther extreme → close (a tie goes to
// the low first, so a long's stop is tested before its target), with
// consecutive equal prices merged. The bar's volume is split evenly along
// the path, the remainder going to the earliest points; a bar with fewer
// lots than path points keeps the extremes first, then the close, then the
// open (one lot trades only the nearer extreme). A bar with no volume yields nothing.
// Times are spread evenly inside the bar: point i of k at Start + i×Period/k.
// Aggressor is left Unknown (the Feed applies the tick rule).
func ExpandBar(dst []Trade, b Bar) []Trade {
	if b.Volume <= 0 {
		return dst
	}
	var near, far Price
	if b.High-b.Open < b.Open-b.Low {
		near, far = b.High, b.Low
	} else {
		near, far = b.Low, b.High
	}
	// prio: lower is kept first when lots are scarce.
	type pt struct {
		p    Price
		prio int
	}
	var path [4]pt
	k := 0
	for _, q := range [4]pt{{b.Open, 3}, {near, 0}, {far, 1}, {b.Close, 2}} {
		if k > 0 && path[k-1].p == q.p {
			if q.prio < path[k-1].prio {
				path[k-1].prio = q.prio
			}
			continue
		}
		path[k] = q
		k++
	}
	var size [4]int64
	if b.Volume >= int64(k) {
		each, rem := b.Volume/int64(k), b.Volume%int64(k)
		for i := range k {
			size[i] = each
			if int64(i) < rem {
				size[i]++
			}
		}
	} else {
		left := b.Volume
		for prio := 0; prio < 4 && left > 0; prio++ {
			for i := range k {
				if path[i].prio == prio && left > 0 {
					size[i], left = 1, left-1
				}
			}
		}
	}
	n := int64(0)
	for i := range k {
		if size[i] > 0 {
			n++
		}
	}
	step := int64(b.Period) / max(n, 1)
	j := int64(0)
	for i := range k {
		if size[i] == 0 {
			continue
		}
		dst = append(dst, Trade{Time: b.Start + j*step, Price: path[i].p, Size: size[i]})
		j++
	}
	return dst
}

// barTrades is a TradeReader of the derived trades of a BarReader.
type barTrades struct {
	bars BarReader
	buf  []Trade
	i    int
}

func (e *barTrades) Next() (Trade, error) {
	for e.i >= len(e.buf) {
		b, err := e.bars.Next()
		if err != nil {
			return Trade{}, err
		}
		e.buf, e.i = ExpandBar(e.buf[:0], b), 0
	}
	t := e.buf[e.i]
	e.i++
	return t, nil
}

var _ TradeReader = (*barTrades)(nil)
