// Package natstest runs a real NATS server with JetStream (nats-server/v2,
// embedded) on loopback for tests and drills: started on a free port with
// its store in a directory the caller owns, stopped and started again on
// the same port and store (NATS "killed and restarted mid-session").
package natstest

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is one embedded nats-server. Safe for concurrent use.
type Server struct {
	mu    sync.Mutex
	dir   string
	port  int
	s     *server.Server
	extra func(*server.Options)
}

// Start starts a JetStream server on 127.0.0.1 (a free port) with its store
// in dir. opts, when given, may change the options before it starts.
func Start(dir string, opts ...func(*server.Options)) (*Server, error) {
	n := &Server{dir: dir, port: -1}
	if len(opts) > 0 {
		n.extra = opts[0]
	}
	if err := n.start(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Server) start() error {
	o := &server.Options{Host: "127.0.0.1", Port: n.port, JetStream: true, StoreDir: n.dir, NoLog: true, NoSigs: true,
		ServerName: "deskguard-test"}
	if n.extra != nil {
		n.extra(o)
	}
	s, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("natstest: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("natstest: server not ready after 30s")
	}
	n.s = s
	if a, ok := s.Addr().(*net.TCPAddr); ok {
		n.port = a.Port
	}
	return nil
}

// URL is the server's client URL (the same across Restart).
func (n *Server) URL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("nats://127.0.0.1:%d", n.port)
}

// Stop shuts the server down (clients see the connection drop) and waits
// until it is gone. A stopped server can be started again with Restart.
func (n *Server) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.s != nil {
		n.s.Shutdown()
		n.s.WaitForShutdown()
		n.s = nil
	}
}

// Restart starts a stopped server again on the same port and store.
func (n *Server) Restart() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.s != nil {
		return nil
	}
	return n.start()
}

// Running reports whether the server is up.
func (n *Server) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.s != nil
}

// Proxy is a TCP proxy on loopback in front of a server, for one client's
// network partition: Cut drops its connections and refuses new ones until
// Heal. The other clients of the server are untouched.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

// NewProxy listens on a free loopback port and forwards to target
// (host:port).
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("natstest: proxy: %w", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

// URL is the proxy's client URL.
func (p *Proxy) URL() string { return "nats://" + p.ln.Addr().String() }

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Cut drops every connection through the proxy and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Heal accepts connections again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.Cut()
	p.ln.Close()
}

// Addr is the server's host:port (for a Proxy's target).
func (n *Server) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("127.0.0.1:%d", n.port)
}
