// socket_test.go: Socket Mode end to end against a local fake —
// apps.connections.open hands out a ws:// URL, the fake says hello and sends
// slash-command and button envelopes, and the test checks the acks, the
// Desk calls and the record.

package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
	"github.com/gorilla/websocket"
)

type fakeSocket struct {
	srv       *httptest.Server
	send      chan string         // envelopes to push to the client
	acks      chan map[string]any // what the client sent back
	responses chan string         // bodies posted to the response URL
}

func newFakeSocket(t *testing.T) *fakeSocket {
	fs := &fakeSocket{send: make(chan string, 10), acks: make(chan map[string]any, 10), responses: make(chan string, 10)}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Authorization"), "xapp-test") {
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		_, _ = fmt.Fprintf(w, `{"ok":true,"url":"ws://%s/ws"}`, r.Host)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","num_connections":1}`)); err != nil {
			return
		}
		go func() {
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				var m map[string]any
				if json.Unmarshal(msg, &m) == nil {
					fs.acks <- m
				}
			}
		}()
		for {
			select {
			case env := <-fs.send:
				if err := c.WriteMessage(websocket.TextMessage, []byte(env)); err != nil {
					return
				}
			case <-r.Context().Done():
				return
			}
		}
	})
	mux.HandleFunc("/respond", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fs.responses <- string(b)
	})
	fs.srv = httptest.NewServer(mux)
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeSocket) ack(t *testing.T) map[string]any {
	t.Helper()
	select {
	case a := <-fs.acks:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no ack")
		return nil
	}
}

func slashEnvelope(id, user, text string) string {
	p, _ := json.Marshal(map[string]any{"command": "/deskguard", "text": text, "user_id": user, "user_name": "someone",
		"channel_id": "C0DESK", "team_id": "T1", "response_url": "http://unused.invalid/", "trigger_id": "1.2"})
	return fmt.Sprintf(`{"type":"slash_commands","envelope_id":%q,"payload":%s,"accepts_response_payload":true}`, id, p)
}

func TestSocketModeFlatten(t *testing.T) {
	fs := newFakeSocket(t)
	d := newFakeDesk()
	rec := newRecorder()
	cfg := Config{AppToken: "xapp-test", APIURL: fs.srv.URL + "/api/", AllowedUsers: []string{"U123"}}
	c := NewCommander(cfg, d, rec, testLog(t), market.NewReplayClock(t0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.RunSocketMode(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("RunSocketMode did not return")
		}
	}()

	// An allowed user flattens the desk.
	fs.send <- slashEnvelope("e1", "U123", "flatten all")
	if got := d.nextFlatten(t, 10*time.Second); got != (flattenCall{"", "slack", "U123"}) {
		t.Fatalf("Flatten(%+v)", got)
	}
	a := fs.ack(t)
	if a["envelope_id"] != "e1" || !strings.Contains(fmt.Sprint(a["payload"]), "Flatten the desk sent") {
		t.Fatalf("ack %v", a)
	}
	// Another user is refused, and the refusal is acked and recorded.
	fs.send <- slashEnvelope("e2", "U999", "flatten all")
	a = fs.ack(t)
	if a["envelope_id"] != "e2" || !strings.Contains(fmt.Sprint(a["payload"]), "Refused") {
		t.Fatalf("ack %v", a)
	}
	// A button press from the lockout message.
	fs.send <- fmt.Sprintf(`{"type":"interactive","envelope_id":"e3","payload":{"type":"block_actions","user":{"id":"U123"},
		"response_url":"%s/respond","actions":[{"type":"button","block_id":"deskguard_flatten","action_id":%q,"value":"ACC1"}]}}`,
		fs.srv.URL, ActionFlattenAccount)
	if a = fs.ack(t); a["envelope_id"] != "e3" {
		t.Fatalf("ack %v", a)
	}
	if got := d.nextFlatten(t, 10*time.Second); got != (flattenCall{"ACC1", "slack", "U123"}) {
		t.Fatalf("Flatten(%+v)", got)
	}
	select {
	case body := <-fs.responses:
		if !strings.Contains(body, "Flatten account ACC1 sent") || !strings.Contains(body, `"response_type":"ephemeral"`) {
			t.Fatalf("response %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reply on the response URL")
	}
	if len(d.flattens) != 0 {
		t.Fatal("refused user flattened")
	}
	cmds := rec.cmds()
	want := []recCmd{
		{User: "U123", Command: "/deskguard flatten all", Allowed: true},
		{User: "U999", Command: "/deskguard flatten all", Allowed: false},
		{User: "U123", Command: "button " + ActionFlattenAccount + " ACC1", Allowed: true},
	}
	if len(cmds) != len(want) {
		t.Fatalf("recorded %+v", cmds)
	}
	for i, w := range want {
		if cmds[i].User != w.User || cmds[i].Command != w.Command || cmds[i].Allowed != w.Allowed {
			t.Errorf("record %d = %+v, want %+v", i, cmds[i], w)
		}
	}
}

func TestSocketModeOffWithoutAppToken(t *testing.T) {
	c := NewCommander(Config{}, newFakeDesk(), newRecorder(), testLog(t), nil)
	if err := c.RunSocketMode(context.Background()); err != ErrOff {
		t.Fatalf("err %v", err)
	}
}
