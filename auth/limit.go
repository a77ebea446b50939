package auth

// limit.go: Limiter, the brake on failed logins. Per key (a console
// client's address, a control-socket peer's uid) a burst of failures is
// free; the n-th failure past it makes the key wait backoff × 2^(n−1)
// (at most the cap) before its next attempt. A success clears the key.
// The surfaces ask before they check a token and refuse without checking
// while the key must wait, so once the burst is spent a guesser gets one
// guess per wait, the waits doubling to the cap. The limiter is given its
// clock (no clock of its own).

import (
	"sync"
	"time"
)

// Limiter defaults.
const (
	DefaultLoginBurst      = 5
	DefaultLoginBackoff    = time.Second
	DefaultLoginBackoffMax = 5 * time.Minute
	// DefaultLimiterKeys bounds the keys remembered; past it the key whose
	// wait ended longest ago is forgotten first.
	DefaultLimiterKeys = 4096
)

// LimitConfig configures a Limiter; zero values take the defaults.
type LimitConfig struct {
	Burst      int           // failures allowed before any wait
	Backoff    time.Duration // the first wait after the burst; doubles with each failure
	BackoffMax time.Duration // the longest wait
	Keys       int           // keys remembered at most
}

// Limiter counts failures per key. Safe for concurrent use.
type Limiter struct {
	cfg LimitConfig
	now func() time.Time

	mu   sync.Mutex
	keys map[string]*limitEntry
}

type limitEntry struct {
	fails int
	until time.Time // no attempt before this
}

// NewLimiter returns a limiter reading the time from now.
func NewLimiter(cfg LimitConfig, now func() time.Time) *Limiter {
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultLoginBurst
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultLoginBackoff
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultLoginBackoffMax
	}
	if cfg.BackoffMax < cfg.Backoff {
		cfg.BackoffMax = cfg.Backoff
	}
	if cfg.Keys <= 0 {
		cfg.Keys = DefaultLimiterKeys
	}
	return &Limiter{cfg: cfg, now: now, keys: map[string]*limitEntry{}}
}

// Attempt asks whether key may try a token now. If key must still wait it
// returns the wait (> 0) and the attempt does not count. Otherwise it
// returns 0 and counts the attempt as a failure until Succeed says
// otherwise: counted before the token is checked, so attempts made in
// parallel cannot all slip through inside one burst.
func (l *Limiter) Attempt(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.keys[key]
	if e != nil {
		if d := e.until.Sub(now); d > 0 {
			return d
		}
		if !e.until.IsZero() && now.Sub(e.until) > l.cfg.BackoffMax {
			// Quiet for longer than the longest wait since its last one
			// ended: it starts again with a fresh burst.
			*e = limitEntry{}
		}
	} else {
		if len(l.keys) >= l.cfg.Keys {
			l.evict()
		}
		e = &limitEntry{}
		l.keys[key] = e
	}
	e.fails++
	if over := e.fails - l.cfg.Burst; over > 0 {
		wait := l.cfg.BackoffMax
		if over <= 62 {
			if d := l.cfg.Backoff << (over - 1); d > 0 && d < wait {
				wait = d
			}
		}
		e.until = now.Add(wait)
	}
	return 0
}

// Succeed clears key: a caller who proved itself starts afresh.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// evict forgets the key whose wait ended longest ago (or that never had
// one); called with the lock held and the map full.
func (l *Limiter) evict() {
	var oldest string
	var at time.Time
	first := true
	for k, e := range l.keys {
		if first || e.until.Before(at) {
			oldest, at, first = k, e.until, false
		}
	}
	if !first {
		delete(l.keys, oldest)
	}
}
