// profile.go: the developing volume profile (volume per tick), its point of
// control (maintained in O(1) per trade), the 70% value area by the
// standard expansion from the POC, and high-volume nodes.

package strategies

import "github.com/deskguard/deskguard/market"

// Profile is the volume traded at each price since the last Reset. It is a
// dense per-tick array that grows at either end as new prices print, so an
// Add is O(1) amortised. The point of control is the price with the most
// volume; ties go to the lowest such price.
type Profile struct {
	base   market.Price // price of vol[0]
	vol    []int64
	total  int64
	poc    market.Price
	pocVol int64
}

// Reset forgets every trade but keeps the allocated array.
func (p *Profile) Reset() {
	clear(p.vol)
	p.vol = p.vol[:0]
	p.total, p.poc, p.pocVol, p.base = 0, 0, 0, 0
}

// Add folds in size contracts at price px. Sizes ≤ 0 are ignored.
func (p *Profile) Add(px market.Price, size int64) {
	if size <= 0 {
		return
	}
	if len(p.vol) == 0 {
		const span = 256
		if cap(p.vol) < span {
			p.vol = make([]int64, span)
		} else {
			p.vol = p.vol[:cap(p.vol)]
		}
		p.base = px - span/2
	}
	i := int64(px - p.base)
	if i < 0 || i >= int64(len(p.vol)) {
		p.grow(px)
		i = int64(px - p.base)
	}
	p.vol[i] += size
	p.total += size
	v := p.vol[i]
	if v > p.pocVol || (v == p.pocVol && px < p.poc) {
		p.poc, p.pocVol = px, v
	}
}

// grow re-centres the array so px fits, doubling it (amortised O(1)).
func (p *Profile) grow(px market.Price) {
	lo, hi := p.base, p.base+market.Price(len(p.vol))-1
	if px < lo {
		lo = px
	}
	if px > hi {
		hi = px
	}
	n := int64(len(p.vol)) * 2
	for n < int64(hi-lo+1)*2 {
		n *= 2
	}
	nb := lo - market.Price((n-int64(hi-lo+1))/2)
	nv := make([]int64, n)
	copy(nv[int64(p.base-nb):], p.vol)
	p.base, p.vol = nb, nv
}

// Total is the profile's volume.
func (p *Profile) Total() int64 { return p.total }

// At is the volume traded at px.
func (p *Profile) At(px market.Price) int64 {
	i := int64(px - p.base)
	if len(p.vol) == 0 || i < 0 || i >= int64(len(p.vol)) {
		return 0
	}
	return p.vol[i]
}

// POC returns the point of control and its volume; ok is false when empty.
func (p *Profile) POC() (px market.Price, vol int64, ok bool) {
	return p.poc, p.pocVol, p.total > 0
}

// bounds returns the lowest and highest price with volume.
func (p *Profile) bounds() (lo, hi market.Price) {
	i, j := 0, len(p.vol)-1
	for i < j && p.vol[i] == 0 {
		i++
	}
	for j > i && p.vol[j] == 0 {
		j--
	}
	return p.base + market.Price(i), p.base + market.Price(j)
}

// ValueArea returns the value area low and high holding at least frac of
// the volume (0.70 by convention), built by the standard expansion: start
// at the POC; compare the volume of the next two prices above with the next
// two below; add the larger pair (the pair above on a tie; one side alone
// once the other is exhausted); repeat until the area holds frac of the
// total. It is O(range) and meant to be called at a signal, not per trade.
func (p *Profile) ValueArea(frac float64) (val, vah market.Price, ok bool) {
	if p.total == 0 {
		return 0, 0, false
	}
	lo, hi := p.bounds()
	need := frac * float64(p.total)
	val, vah = p.poc, p.poc
	in := p.pocVol
	for float64(in) < need && (val > lo || vah < hi) {
		var up, dn int64
		nu, nd := 0, 0
		for k := market.Price(1); k <= 2 && vah+k <= hi; k++ {
			up += p.At(vah + k)
			nu++
		}
		for k := market.Price(1); k <= 2 && val-k >= lo; k++ {
			dn += p.At(val - k)
			nd++
		}
		switch {
		case nd == 0 || (nu > 0 && up >= dn):
			vah += market.Price(nu)
			in += up
		default:
			val -= market.Price(nd)
			in += dn
		}
	}
	return val, vah, true
}

// IsHVN reports whether px is a high-volume node: its volume is at least
// minFrac of the POC's, and it is the peak of the window of ±radius ticks
// around it (strictly above every lower price in the window and at least
// every higher one, so a plateau counts once, at its lowest price).
func (p *Profile) IsHVN(px market.Price, minFrac float64, radius int) bool {
	v := p.At(px)
	if v == 0 || float64(v) < minFrac*float64(p.pocVol) {
		return false
	}
	for k := 1; k <= radius; k++ {
		if p.At(px-market.Price(k)) >= v || p.At(px+market.Price(k)) > v {
			return false
		}
	}
	return true
}

// NextHVNAbove returns the lowest high-volume node strictly above px.
func (p *Profile) NextHVNAbove(px market.Price, minFrac float64, radius int) (market.Price, bool) {
	if p.total == 0 {
		return 0, false
	}
	_, hi := p.bounds()
	for q := px + 1; q <= hi; q++ {
		if p.IsHVN(q, minFrac, radius) {
			return q, true
		}
	}
	return 0, false
}

// NextHVNBelow returns the highest high-volume node strictly below px.
func (p *Profile) NextHVNBelow(px market.Price, minFrac float64, radius int) (market.Price, bool) {
	if p.total == 0 {
		return 0, false
	}
	lo, _ := p.bounds()
	for q := px - 1; q >= lo; q-- {
		if p.IsHVN(q, minFrac, radius) {
			return q, true
		}
	}
	return 0, false
}
