// cluster_test.go: the firm over a three-node NATS JetStream cluster as
// docs/firm.md configures one — each node started from a nats-server
// config file of the documented shape (cluster routes, JetStream, the
// DESKGUARD account with one user per desk and the firm's user and their
// permissions), the stream made with three replicas — on loopback. Two
// desks on different nodes publish; the node one desk is connected to is
// killed mid-session and started again; every record reaches the firm
// exactly once. A desk's user cannot publish another desk's journal or
// listen to another desk's commands.

package firm_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/wire"
)

// nodeConf is docs/firm.md's node config with loopback ports and
// passwords inline (the doc reads them from the environment).
const nodeConf = `
server_name: %s
listen: 127.0.0.1:%d
jetstream {
  store_dir: %q
}
cluster {
  name: deskguard
  listen: 127.0.0.1:%d
  routes: [
    nats-route://127.0.0.1:%d
    nats-route://127.0.0.1:%d
    nats-route://127.0.0.1:%d
  ]
}
accounts {
  DESKGUARD: {
    jetstream: enabled
    users: [
      { user: desk-east, password: east-pw, permissions: {
          publish: { allow: ["deskguard.journal.east.>", "deskguard.desk.east.hb",
                             "$JS.API.STREAM.INFO.DESKGUARD_JOURNAL", "$JS.API.STREAM.MSG.GET.DESKGUARD_JOURNAL",
                             "$JS.API.DIRECT.GET.DESKGUARD_JOURNAL.>"] }
          subscribe: { allow: ["deskguard.cmd.east", "deskguard.firm.hb", "_INBOX.>"] }
          allow_responses: true } }
      { user: desk-west, password: west-pw, permissions: {
          publish: { allow: ["deskguard.journal.west.>", "deskguard.desk.west.hb",
                             "$JS.API.STREAM.INFO.DESKGUARD_JOURNAL", "$JS.API.STREAM.MSG.GET.DESKGUARD_JOURNAL",
                             "$JS.API.DIRECT.GET.DESKGUARD_JOURNAL.>"] }
          subscribe: { allow: ["deskguard.cmd.west", "deskguard.firm.hb", "_INBOX.>"] }
          allow_responses: true } }
      { user: firm, password: firm-pw, permissions: {
          publish: { allow: ["deskguard.cmd.*", "deskguard.firm.hb", "$JS.API.>", "$JS.ACK.DESKGUARD_JOURNAL.>"] }
          subscribe: { allow: ["deskguard.desk.*.hb", "_INBOX.>"] } } }
    ]
  }
}
`

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

type node struct {
	conf string
	s    *server.Server
	url  string
}

func (n *node) start(t *testing.T) {
	t.Helper()
	o, err := server.ProcessConfigFile(n.conf)
	if err != nil {
		t.Fatalf("the documented node config does not load: %v", err)
	}
	o.NoLog, o.NoSigs = true, true
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatal("node not ready")
	}
	n.s = s
}

func (n *node) stop() {
	if n.s != nil {
		n.s.Shutdown()
		n.s.WaitForShutdown()
		n.s = nil
	}
}

func TestThreeNodeCluster(t *testing.T) {
	ports := freePorts(t, 6)
	dir := t.TempDir()
	var nodes []*node
	var urls []string
	for i := range 3 {
		conf := filepath.Join(dir, fmt.Sprintf("n%d.conf", i+1))
		body := fmt.Sprintf(nodeConf, fmt.Sprintf("n%d", i+1), ports[i], filepath.Join(dir, fmt.Sprintf("js%d", i+1)), ports[3+i],
			ports[3], ports[4], ports[5])
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		n := &node{conf: conf, url: fmt.Sprintf("nats://127.0.0.1:%d", ports[i])}
		nodes = append(nodes, n)
		urls = append(urls, n.url)
	}
	for _, n := range nodes {
		n.start(t)
		t.Cleanup(n.stop)
	}
	all := strings.Join(urls, ",")
	firmNC := connect(t, all, "firm", nats.UserInfo("firm", "firm-pw"))
	// The stream, made once with three replicas as the doc's `nats stream
	// add` does (the cluster needs a moment to elect its meta leader).
	js, err := jetstream.New(firmNC)
	if err != nil {
		t.Fatal(err)
	}
	cfg := wire.StreamOptions{Replicas: 3}.StreamConfig()
	within(t, "the stream created with three replicas", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := js.CreateOrUpdateStream(ctx, cfg)
		return err == nil
	})
	agg := startAgg(t, firm.Options{Conn: firmNC, Desks: []string{"east", "west"}})
	east := newScriptDesk(t, "east", urls[0], 1, nats.UserInfo("desk-east", "east-pw"), nats.DontRandomize())
	west := newScriptDesk(t, "west", urls[1]+","+urls[2], 2, nats.UserInfo("desk-west", "west-pw"), nats.DontRandomize())
	desks := []*scriptDesk{east, west}
	trade := func(n int) {
		for range n {
			for _, d := range desks {
				d.trade(t)
			}
		}
	}
	caughtUp := func(what string) {
		t.Helper()
		for _, d := range desks {
			within(t, what+": "+d.name, func() bool { return agg.a.LastSeq(d.name) == d.committed(t) })
		}
	}
	trade(30)
	caughtUp("flowing")
	// The node east is connected to dies mid-session; east reconnects to
	// another node (the cluster told it of them) and catches up.
	nodes[0].stop()
	trade(30)
	caughtUp("with n1 down")
	nodes[0].start(t)
	trade(10)
	caughtUp("after n1 is back")
	for _, d := range desks {
		c := d.committed(t)
		if n := streamCount(t, firmNC, d.name); n != c {
			t.Errorf("%s: the stream holds %d messages for %d records", d.name, n, c)
		}
		bk, _ := agg.a.Book(d.name)
		if bk.Records != c || len(bk.Gaps) > 0 || len(bk.Errors) > 0 {
			t.Errorf("%s: %d folded for %d committed, gaps %v errors %v", d.name, bk.Records, c, bk.Gaps, bk.Errors)
		}
		if got, want := bookJSON(t, &bk), d.journalBook(t); got != want {
			t.Errorf("%s: the firm's book differs from the journal", d.name)
		}
	}
	// The permissions: east may not write west's journal nor hear west's
	// commands.
	perr := make(chan error, 4)
	bad := connect(t, all, "bad-east", nats.UserInfo("desk-east", "east-pw"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { perr <- err }))
	if err := bad.Publish(wire.JournalSubject("west", "kill"), []byte("forged")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-perr:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("publishing west's journal as east: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no permissions violation for east publishing west's journal")
	}
	if _, err := bad.SubscribeSync(wire.CommandSubject("west")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-perr:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("subscribing to west's commands as east: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no permissions violation for east listening to west's commands")
	}
	if n := streamCount(t, firmNC, "west"); n != west.committed(t) {
		t.Fatalf("east's forged message reached west's journal stream (%d messages)", n)
	}
}
