package supervisor

// feederr_test.go: a feed that fails (issue 25.7) is not a session that
// ended: RunLive marks the data link down — journaled, alerted, the desk
// degraded so it takes no new entry — before it returns the error.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alert"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

// failingReader feeds ts, then fails with err (a file truncated mid-record).
type failingReader struct {
	sliceReader
	err error
}

func (f *failingReader) Next() (market.Trade, error) {
	if f.i >= len(f.ts) {
		return market.Trade{}, f.err
	}
	return f.sliceReader.Next()
}

func TestFeedErrorTakesTheDataLinkDown(t *testing.T) {
	ra := &recAlerts{}
	r := newRig(t, rigOpt{Async: true, Alerts: ra})
	ts := session(t, 4, 0.05, 400)
	bad := errors.New("csv: line 401: truncated record")
	err := RunLive(ctxT(t, 30*time.Second), r.d, LiveOptions{Feed: &failingReader{sliceReader: sliceReader{ts: ts}, err: bad},
		Matcher: r.rec, Clock: r.clock, MaxBatch: 64})
	if !errors.Is(err, bad) || errors.Is(err, ErrFeedEnded) {
		t.Fatalf("RunLive = %v, want the feed's error (not a session that ended)", err)
	}
	st := r.d.Status(ctxT(t, 10*time.Second))
	if st.Links.Data != "down" {
		t.Errorf("status data link %q after the feed failed, want down", st.Links.Data)
	}
	if st.State != DeskDegraded {
		t.Errorf("desk %s after the feed failed, want %s (no new entries)", st.State, DeskDegraded)
	}
	ra.mu.Lock()
	var lost []alert.Alert
	for _, a := range ra.got {
		if a.Kind == alert.KindLinkLost && a.Link != nil && a.Link.Link == "data" {
			lost = append(lost, a)
		}
	}
	ra.mu.Unlock()
	if len(lost) != 1 || !strings.Contains(lost[0].Detail, "truncated record") {
		t.Errorf("data link alerts %+v, want one naming the feed's error", lost)
	}
	var links []journal.Link
	for _, rec := range r.records() {
		if rec.Kind == journal.KindLink {
			l, err := rec.Link()
			if err != nil {
				t.Fatal(err)
			}
			links = append(links, l)
		}
	}
	if len(links) != 1 || links[0].Link != "data" || links[0].OK {
		t.Errorf("journaled links %+v, want the data link down", links)
	}
}

func TestFeedEndIsNotALinkDown(t *testing.T) {
	ra := &recAlerts{}
	r := newRig(t, rigOpt{Async: true, Alerts: ra})
	ts := session(t, 4, 0.05, 400)
	err := RunLive(ctxT(t, 30*time.Second), r.d, LiveOptions{Feed: &sliceReader{ts: ts}, Matcher: r.rec, Clock: r.clock, MaxBatch: 64})
	if !errors.Is(err, ErrFeedEnded) {
		t.Fatalf("RunLive = %v, want ErrFeedEnded", err)
	}
	if st := r.d.Status(ctxT(t, 10*time.Second)); st.Links.Data == "down" || st.State != DeskRunning {
		t.Errorf("after the feed ended: data %q, desk %s", st.Links.Data, st.State)
	}
	if n := ra.count(alert.KindLinkLost, ""); n != 0 {
		t.Errorf("%d link alerts for a feed that ended", n)
	}
}
