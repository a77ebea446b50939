package console_test

// login_test.go: failed logins are limited per client address (issue 23):
// under a bounded burst of bad tokens — sent all at once — only the burst
// (and the one failure that starts the first wait) is checked, the rest
// get 429 with Retry-After; while the address waits even a good token
// gets 429 (nothing is checked), a session logged in before keeps working,
// and once the wait has passed a good token logs in and clears the
// address. The console's clock is a fake one: no test waits on wall time.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/console"
	"github.com/deskguard/deskguard/market"
)

func TestFailedLoginsLimited(t *testing.T) {
	clock := market.NewReplayClock(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC))
	e := start(t, console.Config{Clock: clock, LoginBurst: 3, LoginBackoff: 10 * time.Second, LoginBackoffMax: time.Minute})
	mgr, csrf := e.login(tokManager) // a session from before the attack

	const burst = 50
	codes := make(chan int, burst)
	retry := make(chan string, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r *http.Response
			var err error
			if i%2 == 0 {
				r, err = http.PostForm(e.base+"/api/login", url.Values{"token": {"guess-" + strconv.Itoa(i)}})
			} else {
				req, _ := http.NewRequest("POST", e.base+"/api/flatten", strings.NewReader(`{"account":""}`))
				req.Header.Set("Authorization", "Bearer guess-"+strconv.Itoa(i))
				r, err = http.DefaultClient.Do(req)
			}
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			codes <- r.StatusCode
			if r.StatusCode == http.StatusTooManyRequests {
				retry <- r.Header.Get("Retry-After")
			}
		}()
	}
	wg.Wait()
	close(codes)
	close(retry)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[http.StatusUnauthorized] != 4 || n[http.StatusTooManyRequests] != burst-4 {
		t.Fatalf("answers %v: want 4 checked (401) and %d refused unchecked (429)", n, burst-4)
	}
	for ra := range retry {
		if s, err := strconv.Atoi(ra); err != nil || s < 1 || s > 10 {
			t.Fatalf("Retry-After %q, want 1..10 s", ra)
		}
	}
	if len(e.desk.Actions()) != 0 {
		t.Fatalf("a refused request reached the desk: %+v", e.desk.Actions())
	}
	// While the address waits: a good token is not checked either …
	if r := e.do(nil, "GET", "/api/status", tokManager, nil, nil); r.code != http.StatusTooManyRequests {
		t.Fatalf("the manager's bearer token while limited: %d", r.code)
	}
	// … but the session logged in before still acts.
	if r := e.do(mgr, "POST", "/api/flatten", "", map[string]string{"account": "ACC1"}, map[string]string{console.CSRFHeader: csrf}); r.code != 200 {
		t.Fatalf("the manager's session while the address is limited: %d %s", r.code, r.body)
	}
	// The wait served, the next failure doubles it.
	clock.Advance(clock.Now().Add(10 * time.Second).UnixNano())
	if r := e.do(nil, "GET", "/api/status", "guess-again", nil, nil); r.code != http.StatusUnauthorized {
		t.Fatalf("a bad token after the wait: %d, want 401 (checked)", r.code)
	}
	if r := e.do(nil, "GET", "/api/status", tokManager, nil, nil); r.code != http.StatusTooManyRequests || r.hdr.Get("Retry-After") != "20" {
		t.Fatalf("after the next failure: %d Retry-After %q, want 429 and 20", r.code, r.hdr.Get("Retry-After"))
	}
	clock.Advance(clock.Now().Add(20 * time.Second).UnixNano())
	if r := e.do(nil, "GET", "/api/status", tokManager, nil, nil); r.code != 200 {
		t.Fatalf("the manager's token after the wait: %d", r.code)
	}
	// The success cleared the address: a fresh burst.
	for i := range 3 {
		if r := e.do(nil, "GET", "/api/status", "bad", nil, nil); r.code != http.StatusUnauthorized {
			t.Fatalf("bad token %d after a success: %d", i, r.code)
		}
	}
}
