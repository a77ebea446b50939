package supervisor

// tradovate_killpath_test.go: the kill over the real protocol while a
// placement is stuck at the venue — the connector's REST calls go through
// a proxy that holds one bracket placement unanswered — so the kill is
// seen not to wait behind the intent path's request in flight.

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

// holdProxy forwards REST calls to the venue and holds the first request
// to path (the venue has acted on it, or not, as the hold says) until
// released.
type holdProxy struct {
	srv     *httptest.Server
	path    string
	before  bool          // hold before forwarding (the venue has not seen it) rather than after
	entered chan struct{} // closed when the held request arrives
	release chan struct{} // closed by the test
	mu      sync.Mutex
	held    bool
	log     []string // paths forwarded (answered), in order
}

func newHoldProxy(t *testing.T, target, path string, before bool) *holdProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{path: path, before: before, entered: make(chan struct{}), release: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		hold := !p.held && r.URL.Path == u.Path+p.path
		if hold {
			p.held = true
		}
		p.mu.Unlock()
		if hold && p.before {
			close(p.entered)
			<-p.release
		}
		if hold && !p.before {
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			close(p.entered)
			<-p.release
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		} else {
			rp.ServeHTTP(w, r)
		}
		p.mu.Lock()
		p.log = append(p.log, r.URL.Path[len(u.Path):])
		p.mu.Unlock()
	}))
	t.Cleanup(func() {
		p.mu.Lock()
		if p.held {
			select {
			case <-p.release:
			default:
				close(p.release)
			}
		}
		p.mu.Unlock()
		p.srv.Close()
	})
	return p
}

func (p *holdProxy) answered() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// TestKillNotBehindAPlacementAtTheVenue: A's bracket placement has
// reached the venue (it holds the order) but its answer is stuck on the
// way back — a slow or penalised REST answer — when the desk is killed.
// The kill's liquidations for both accounts are answered while the
// placement is still unanswered: the kill does not wait on the intent
// path's request in flight (the stage-1 drill saw a kill wait about 3 s
// behind an account's placement). Once the placement is answered, the
// desk liquidates A again, so the bracket does not outlive the kill, and
// both accounts end flat with nothing working at the venue.
func TestKillNotBehindAPlacementAtTheVenue(t *testing.T) {
	v, stopV := startTVVenue(t, venue.Config{Accounts: []string{"A", "B"}})
	defer stopV()
	px := newHoldProxy(t, v.URL(), "/order/placeoso", false)
	r := newTVRig(t, tvOpt{Venue0: v, REST: px.srv.URL + "/v1"})
	r.trade(r.px)
	for _, id := range []string{"A", "B"} {
		if err := r.d.byID[id].m.Fire(EvStart, "test"); err != nil {
			t.Fatal(err)
		}
	}
	res := make(chan IntentResult, 1)
	go func() { res <- r.enter("A", market.Buy, 1) }()
	select {
	case <-px.entered:
	case got := <-res:
		t.Fatalf("the placement never reached the venue: %+v", got)
	}

	from := len(px.answered())
	killed := make(chan KillReport, 1)
	go func() {
		rep, err := r.d.Kill(r.ctx, DeskScope, TriggerCLI, "test")
		if err != nil {
			t.Error(err)
		}
		killed <- rep
	}()
	var rep KillReport
	select {
	case rep = <-killed:
	case got := <-res:
		t.Fatalf("the placement returned while held: %+v", got)
	case <-time.After(heldFor): // a deadlock bound, not a budget: the placement is held until released
		t.Fatal("the kill did not return while A's placement was unanswered: it waits behind the intent path")
	}
	liq := 0
	for _, p := range px.answered()[from:] {
		if p == "/order/liquidateposition" {
			liq++
		}
	}
	if liq != 2 || rep.Accounts != 2 || len(rep.Failed) != 0 {
		t.Fatalf("while A's placement was unanswered: liquidations answered %v, kill report %+v", px.answered()[from:], rep)
	}

	if len(rep.Chased) != 1 || rep.Chased[0] != "A" {
		t.Errorf("chased %v, want A (its placement was in flight across the halt)", rep.Chased)
	}
	close(px.release)
	if got := <-res; !got.Sent {
		t.Fatalf("the held placement: %+v", got)
	}
	r.d.chases.Wait()
	// A liquidated again once its placement was answered.
	after, placed := 0, false
	for _, p := range px.answered()[from:] {
		switch {
		case p == "/order/placeoso":
			placed = true
		case placed && p == "/order/liquidateposition":
			after++
		}
	}
	if !placed || after != 1 {
		t.Errorf("requests from the kill on %v: want A's liquidation again after its placement was answered", px.answered()[from:])
	}
	r.trade(r.px) // the liquidations' market orders fill
	r.within("both accounts flat with nothing working at the venue", func() bool {
		for _, id := range []string{"A", "B"} {
			open, _ := r.v.Engine().OpenOrders(r.ctx, id)
			if r.venuePos(id).Qty != 0 || len(open) != 0 || r.position(id) != 0 {
				return false
			}
		}
		return true
	})
	r.finish()
}
