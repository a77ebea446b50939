// rate.go: the per-account order rate limiter, a fixed ring of the last
// orders' times owned by the caller (one per account).

package limits

// RateLimiter counts risk-adding orders per rolling second and minute. The
// gate only reads it (Allow); the router calls Record when it sends an
// accepted order. Not safe for concurrent use: one per account, used by the
// goroutine that routes that account's intents.
type RateLimiter struct {
	perSec, perMin int
	ring           []int64 // the last perMin order times, ns
	next, n        int
}

// NewRateLimiter allows perSecond orders in any rolling second and
// perMinute in any rolling minute (0 or less: that window is unlimited).
func NewRateLimiter(perSecond, perMinute int) *RateLimiter {
	size := max(perSecond, perMinute, 1)
	return &RateLimiter{perSec: perSecond, perMin: perMinute, ring: make([]int64, size)}
}

// kth returns the time of the k-th most recent order (k ≥ 1) and whether
// there were that many.
func (r *RateLimiter) kth(k int) (int64, bool) {
	if k < 1 || k > r.n {
		return 0, false
	}
	i := (r.next - k + len(r.ring)) % len(r.ring)
	return r.ring[i], true
}

// Allow reports whether one more order at nowNs stays within both windows;
// when not, it returns the limit hit and its size twice (count, limit).
func (r *RateLimiter) Allow(nowNs int64) (count, limit int, ok bool) {
	const sec, minute = int64(1e9), int64(60e9)
	if r.perSec > 0 {
		if t, full := r.kth(r.perSec); full && nowNs-t < sec {
			return r.perSec, r.perSec, false
		}
	}
	if r.perMin > 0 {
		if t, full := r.kth(r.perMin); full && nowNs-t < minute {
			return r.perMin, r.perMin, false
		}
	}
	return 0, 0, true
}

// Record notes an order sent at nowNs.
func (r *RateLimiter) Record(nowNs int64) {
	r.ring[r.next] = nowNs
	r.next = (r.next + 1) % len(r.ring)
	if r.n < len(r.ring) {
		r.n++
	}
}

// Reset forgets every recorded order (session reset).
func (r *RateLimiter) Reset() { r.next, r.n = 0, 0 }
