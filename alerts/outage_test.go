// outage_test.go: Slack hangs (every request blocks) — Notify stays fast,
// kills are kept, and a Slack flatten still reaches the Desk at once; plus
// the latency benchmark and a rapid property over the queue's drop policy.

package alerts

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
	"pgregory.net/rapid"
)

func hangingSlack(t testing.TB) *fakeSlack {
	f := newFakeSlack(t)
	f.mu.Lock()
	f.hang = make(chan struct{})
	f.mu.Unlock()
	return f
}

func TestOutageNotifyNeverBlocksAndKillPathUnaffected(t *testing.T) {
	f := hangingSlack(t)
	cfg := webCfg(f)
	cfg.PostTimeout = time.Minute // a minute-long outage: every post hangs
	cfg.QueueSize = 64
	n := New(cfg, newRecorder(), testLog(t), market.NewReplayClock(t0))
	run(t, n)
	n.Notify(samples()["link_lost"])
	f.next(t, 5*time.Second) // the delivery goroutine is now stuck in a post

	const total = 20000
	lat := make([]time.Duration, 0, total)
	kills := 0
	for i := range total {
		var a Alert
		switch i % 4 {
		case 0:
			a = Kill(time.Time{}, KillFacts{Scope: fmt.Sprintf("ACC%d", i), Trigger: "button", Who: "panic"})
			kills++
		default:
			a = WorkerCrash(time.Time{}, fmt.Sprintf("ACC%d", i), "x")
		}
		s := time.Now()
		n.Notify(a)
		lat = append(lat, time.Since(s))
	}
	slices.Sort(lat)
	p50, p99, max := lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	t.Logf("Notify during outage: %d calls, p50 %v p99 %v max %v", total, p50, p99, max)
	if p99 > 5*time.Millisecond {
		t.Errorf("Notify p99 %v during an outage", p99)
	}
	st := n.Stats()
	if st.Queued != kills+cfg.QueueSize || st.Dropped != uint64(total-kills-cfg.QueueSize) {
		t.Fatalf("stats %+v (kills %d)", st, kills)
	}

	// The kill path: a Slack flatten during the outage goes straight to the Desk.
	d := newFakeDesk()
	c := NewCommander(Config{AllowedUsers: []string{"U123"}}, d, newRecorder(), testLog(t), nil)
	s := time.Now()
	r := c.Slash(context.Background(), "U123", "/deskguard", "flatten all")
	took := time.Since(s)
	d.nextFlatten(t, time.Second)
	t.Logf("Slack flatten during the outage answered in %v: %s", took, r.Text)
	if took > 500*time.Millisecond {
		t.Errorf("flatten took %v during a Slack outage", took)
	}
}

// BenchmarkNotifyDuringOutage: ns per Notify while every post hangs (half of
// the alerts are kills, which are kept; the rest overflow and are dropped).
func BenchmarkNotifyDuringOutage(b *testing.B) {
	f := hangingSlack(b)
	cfg := webCfg(f)
	cfg.PostTimeout = time.Minute
	n := New(cfg, newRecorder(), testLog(b), market.NewReplayClock(t0))
	run(b, n)
	n.Notify(samples()["link_lost"])
	f.next(b, 5*time.Second)
	accts := make([]string, 1024)
	for i := range accts {
		accts[i] = fmt.Sprintf("ACC%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			n.Notify(Alert{Kind: KindKill, Severity: Critical, Account: accts[i%len(accts)]})
		} else {
			n.Notify(Alert{Kind: KindWorkerCrash, Severity: Warning, Account: accts[i%len(accts)]})
		}
	}
}

// Property: whatever arrives in whatever order, the low-severity queue never
// exceeds its bound, and every critical alert is delivered or folded into a
// delivered "N more since" — none is ever dropped.
func TestPropertyCriticalNeverDropped(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		clock := market.NewReplayClock(t0)
		cfg := Config{BotToken: "xoxb-x", Channel: "C", QueueSize: rapid.IntRange(1, 8).Draw(rt, "queue"),
			CoalesceWindow: time.Duration(rapid.IntRange(-1, 60).Draw(rt, "window")) * time.Second}
		n := New(cfg, nil, nil, clock)
		now := t0
		critSent := 0
		steps := rapid.IntRange(1, 300).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0:
				now = now.Add(time.Duration(rapid.IntRange(0, 40_000).Draw(rt, "ms")) * time.Millisecond)
				clock.Advance(now.UnixNano())
			case 1:
				n.sweep()
			default:
				k := rapid.SampledFrom(Kinds).Draw(rt, "kind")
				sev := rapid.SampledFrom([]Severity{Info, Warning, Critical}).Draw(rt, "sev")
				if sev == Critical {
					critSent++
				}
				n.Notify(Alert{Kind: k, Severity: sev, Account: rapid.SampledFrom([]string{"", "A", "B"}).Draw(rt, "acct")})
			}
			n.mu.Lock()
			over := len(n.normal) > cfg.QueueSize
			n.mu.Unlock()
			if over {
				rt.Fatalf("normal queue %d over its bound %d", len(n.normal), cfg.QueueSize)
			}
		}
		clock.Advance(now.Add(2 * time.Minute).UnixNano())
		n.sweep()
		got := 0
		n.mu.Lock()
		for _, a := range n.crit {
			if a.Severity != Critical {
				rt.Fatalf("non-critical in the critical lane")
			}
			got += max(1, a.Repeats) // a coalesced message stands for its Repeats alerts
		}
		n.mu.Unlock()
		if got != critSent {
			rt.Fatalf("critical alerts notified %d, accounted for %d", critSent, got)
		}
	})
}
