// This file checks how the venue answers bad and unauthorised requests
// (status and error text, as the real API does) and its WebSocket frames.

package venue

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func start(t *testing.T) *Venue {
	t.Helper()
	v, err := New(Config{Accounts: []string{"A"}, Manual: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	<-v.Ready()
	return v
}

func do(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestBadRequests(t *testing.T) {
	v := start(t)
	u := v.URL()
	_, auth := do(t, "POST", u+"/auth/accesstokenrequest", "", `{"name":"demo","password":"demo"}`)
	tok, _ := auth["accessToken"].(string)
	if tok == "" {
		t.Fatalf("no token: %v", auth)
	}
	cases := []struct {
		name, method, path, token, body string
		status                          int
		key, contains                   string
	}{
		{"wrong password", "POST", "/auth/accesstokenrequest", "", `{"name":"demo","password":"x"}`, 200, "errorText", "Incorrect username or password"},
		{"malformed auth", "POST", "/auth/accesstokenrequest", "", `{"name":`, 400, "errorText", "malformed"},
		{"no token", "GET", "/account/list", "", "", 401, "errorText", "Access is denied"},
		{"bad token", "GET", "/account/list", "nope", "", 401, "errorText", "Access is denied"},
		{"unknown endpoint", "GET", "/nothing/here", tok, "", 404, "errorText", "unknown endpoint"},
		{"wrong method", "GET", "/order/placeorder", tok, "", 405, "errorText", "method"},
		{"malformed order", "POST", "/order/placeorder", tok, `{"action":`, 400, "errorText", "malformed"},
		{"bad action", "POST", "/order/placeorder", tok, `{"accountSpec":"A","symbol":"MESZ5","action":"Hold","orderType":"Market","orderQty":1}`, 400, "errorText", "action"},
		{"off-tick price", "POST", "/order/placeorder", tok, `{"accountSpec":"A","symbol":"MESZ5","action":"Buy","orderType":"Limit","price":5000.1,"orderQty":1}`, 400, "errorText", "tick"},
		{"unknown symbol", "POST", "/order/placeorder", tok, `{"accountSpec":"A","symbol":"ESZ5","action":"Buy","orderType":"Market","orderQty":1}`, 200, "failureReason", "InvalidContract"},
		{"unknown account", "POST", "/order/placeorder", tok, `{"accountSpec":"Z","symbol":"MESZ5","action":"Buy","orderType":"Market","orderQty":1}`, 200, "failureText", "unknown account"},
		{"engine reject", "POST", "/order/placeorder", tok, `{"accountSpec":"A","symbol":"MESZ5","action":"Buy","orderType":"Market","orderQty":0}`, 200, "failureReason", "UnknownReason"},
		{"cancel unknown", "POST", "/order/cancelorder", tok, `{"orderId":999999}`, 200, "failureText", "unknown order"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, m := do(t, c.method, u+c.path, c.token, c.body)
			if st != c.status {
				t.Fatalf("status %d, want %d (%v)", st, c.status, m)
			}
			if s, _ := m[c.key].(string); !strings.Contains(s, c.contains) {
				t.Fatalf("%s = %q, want it to contain %q (%v)", c.key, s, c.contains, m)
			}
		})
	}
	v.ExpireTokens()
	if st, m := do(t, "GET", u+"/account/list", tok, ""); st != 401 {
		t.Fatalf("expired token: %d %v", st, m)
	}
}

func TestSocketFrames(t *testing.T) {
	v := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, auth := do(t, "POST", v.URL()+"/auth/accesstokenrequest", "", `{"name":"demo","password":"demo"}`)
	c, _, err := websocket.Dial(ctx, v.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func() string {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write := func(s string) {
		if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if f := read(); f != "o" {
		t.Fatalf("first frame %q", f)
	}
	write("user/syncrequest\n1\n\n{}")
	if f := read(); !strings.Contains(f, `"s":401`) {
		t.Fatalf("unauthorised request answered %s", f)
	}
	write("authorize\n0\n\nnot-a-token")
	if f := read(); !strings.Contains(f, `"s":401`) {
		t.Fatalf("bad token answered %s", f)
	}
	write("authorize\n0\n\n" + auth["accessToken"].(string))
	if f := read(); f != `a[{"s":200,"i":0}]` {
		t.Fatalf("authorize answered %s", f)
	}
	write("[]")
	write("garbage")
	if f := read(); !strings.Contains(f, `"s":400`) {
		t.Fatalf("malformed request answered %s", f)
	}
	write("user/syncrequest\n2\n\n{\"splitResponses\":true}")
	f := read()
	if !strings.HasPrefix(f, "a[") || !strings.Contains(f, `"i":2`) || !strings.Contains(f, `"accounts":[{"id":10001,"name":"A"`) {
		t.Fatalf("sync answered %s", f)
	}
}

// TestBounceKeepsOrdersForgetsTokens: a venue restart drops every client
// and token but keeps the working orders, and serves again on the same
// address.
func TestBounceKeepsOrdersForgetsTokens(t *testing.T) {
	v := start(t)
	u := v.URL()
	_, auth := do(t, "POST", u+"/auth/accesstokenrequest", "", `{"name":"demo","password":"demo"}`)
	tok, _ := auth["accessToken"].(string)
	if tok == "" {
		t.Fatalf("no token: %v", auth)
	}
	if code, m := do(t, "POST", u+"/order/placeorder", tok, `{"accountSpec":"A","symbol":"MESZ5","action":"Buy","orderType":"Limit","price":5000.25,"orderQty":1,"clOrdId":"b1"}`); code != 200 || m["orderId"] == nil {
		t.Fatalf("place: %d %v", code, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Bounce(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if v.URL() != u {
		t.Fatalf("address changed: %s → %s", u, v.URL())
	}
	if code, _ := do(t, "GET", u+"/order/list", tok, ""); code != http.StatusUnauthorized {
		t.Fatalf("old token after a restart: %d, want 401", code)
	}
	_, auth = do(t, "POST", u+"/auth/accesstokenrequest", "", `{"name":"demo","password":"demo"}`)
	tok, _ = auth["accessToken"].(string)
	code, _ := do(t, "GET", u+"/order/list", tok, "")
	if code != 200 {
		t.Fatalf("order list after re-auth: %d", code)
	}
	open, _ := v.Engine().OpenOrders(ctx, "A")
	if len(open) != 1 || open[0].ClientID != "b1" {
		t.Fatalf("working orders after a restart: %+v", open)
	}
	if v.Stats().Restarts != 1 {
		t.Fatalf("restarts = %d", v.Stats().Restarts)
	}
}
