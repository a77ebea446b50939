// This file runs the real `deskguard venue` binary as a child process and
// trades a bracket through it with the connector, then stops it with
// SIGTERM.

package tradovate_test

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/market"
)

func TestVenueChildProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "deskguard")
	build := exec.Command("go", "build", "-o", bin, "github.com/deskguard/deskguard/cmd/deskguard")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "venue", "--listen", "127.0.0.1:0", "--synth", "5", "--pace", "600", "--accounts", "A,B")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var base, md string
	for sc.Scan() && (base == "" || md == "") {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "venue: "); ok {
			base = u
		}
		if u, ok := strings.CutPrefix(line, "md websocket: "); ok {
			md = u
		}
	}
	if base == "" || md == "" {
		t.Fatal("the venue did not print its URLs")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := tradovate.Config{BaseURL: base, MDURL: md, User: "demo"}
	creds := tradovate.Credentials{Password: "demo"}
	c, err := tradovate.Dial(ctx, cfg, creds, tradovate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	feed, err := c.Feed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	last, err := feed.Next()
	if err != nil {
		t.Fatal(err)
	}
	b := broker.Bracket{
		Entry:  broker.Order{ClientID: "x", Account: "B", Side: market.Buy, Qty: 1, Type: market.MarketOrder, TIF: broker.Day},
		Stop:   broker.Order{ClientID: "x.s", Side: market.Sell, Type: market.StopOrder, StopPrice: last.Price - 400},
		Target: broker.Order{ClientID: "x.t", Side: market.Sell, Type: market.LimitOrder, Price: last.Price + 400},
	}
	if err := c.SubmitBracket(ctx, b); err != nil {
		t.Fatal(err)
	}
	for ev := range c.Events() {
		if ev.ClientID == "x" && ev.Kind == broker.FilledEv {
			break
		}
	}
	open, err := c.OpenOrders(ctx, "B")
	if err != nil || len(open) != 2 {
		t.Fatalf("open orders after the entry fill: %+v, %v", open, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("venue exit: %v", err)
	}
}
