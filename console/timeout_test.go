package console_test

// timeout_test.go: the read timeout (issue 25 item 9). A client that sends
// its headers and then trickles (or never sends) its body is cut off after
// read_timeout — 100 such /api/login connections held the console open
// for 45 s before — while a status stream, whose request is read at once,
// lives on past it.

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/console"
)

func TestSlowBodiesAreCutOff(t *testing.T) {
	e := start(t, console.Config{ReadTimeout: 200 * time.Millisecond})
	host := strings.TrimPrefix(e.base, "http://")
	const conns = 100
	var wg sync.WaitGroup
	errs := make(chan string, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", host)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			path := "/api/login"
			if i%4 == 3 {
				path = "/api/flatten" // an authenticated endpoint's body is bounded the same way
			}
			_, _ = io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: "+host+"\r\nContent-Type: application/json\r\n"+
				"Content-Length: 4096\r\n\r\n{\"token\":\"")
			// The client's own bound: far beyond the server's 200 ms. A
			// server without a read timeout keeps the connection until it.
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			_, err = io.Copy(io.Discard, bufio.NewReader(c))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				errs <- "connection still open after 15 s"
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for msg := range errs {
		if n++; n <= 3 {
			t.Error(msg)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d slow-body connections were not cut off", n, conns)
	}
	// The console still serves.
	if r := e.do(nil, "GET", "/api/status", tokViewer, nil, nil); r.code != 200 {
		t.Fatalf("status after the slow clients: %d", r.code)
	}
}

func TestStreamOutlivesReadTimeout(t *testing.T) {
	const readTimeout = 100 * time.Millisecond
	e := start(t, console.Config{ReadTimeout: readTimeout, StatusEvery: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := e.events(ctx, tokManager)
	// The first event comes at once, then one per 20 ms tick: the 21st
	// cannot arrive before 400 ms, four read timeouts.
	for i := range 21 {
		select {
		case _, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended after %d events (the read timeout closed it)", i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event %d within 10s", i)
		}
	}
}
