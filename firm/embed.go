package firm

// embed.go: an embedded NATS server with JetStream (nats-server/v2) for
// `deskguard firm` when no URL is given and for the one-machine demo: the
// same engine a firm runs as a cluster, on one machine, bound to loopback
// unless told otherwise.

import (
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embedded is a running embedded NATS server.
type Embedded struct {
	s   *server.Server
	url string
}

// StartEmbedded starts a JetStream server listening on addr (host:port;
// port 0 = a free one) with its store in dir.
func StartEmbedded(addr, dir string) (*Embedded, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("firm: embedded nats: %w", err)
	}
	p := 0
	if _, err := fmt.Sscan(port, &p); err != nil {
		return nil, fmt.Errorf("firm: embedded nats: port %q: %w", port, err)
	}
	if p == 0 {
		p = -1 // nats-server: a random port
	}
	o := &server.Options{ServerName: "deskguard-firm", Host: host, Port: p, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true}
	s, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("firm: embedded nats: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("firm: embedded nats on %s did not start", addr)
	}
	return &Embedded{s: s, url: "nats://" + s.Addr().String()}, nil
}

// URL is the server's client URL.
func (e *Embedded) URL() string { return e.url }

// Stop shuts the server down.
func (e *Embedded) Stop() {
	e.s.Shutdown()
	e.s.WaitForShutdown()
}
