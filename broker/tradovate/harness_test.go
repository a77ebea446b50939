// This file starts a venue in-process on loopback and a connector to it,
// for the tests of this package.

package tradovate_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

type rig struct {
	v      *venue.Venue
	c      *tradovate.Client
	cfg    tradovate.Config
	creds  tradovate.Credentials
	cancel context.CancelFunc
	served chan error
}

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("VENUE_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// startVenue runs a Manual venue over a synthetic session; trades enter
// only through Step/Trade.
func startVenue(t testing.TB, vcfg venue.Config) (*venue.Venue, func()) {
	t.Helper()
	feed, err := synth.NewReader(synth.Options{Seed: 7, Regime: synth.Range})
	if err != nil {
		t.Fatal(err)
	}
	vcfg.Manual = true
	v, err := venue.New(vcfg, feed, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- v.Serve(ctx, ln) }()
	// Serve sets the URL before it accepts; wait for it deterministically.
	select {
	case <-v.Ready():
	case err := <-served:
		t.Fatalf("venue stopped: %v", err)
	}
	return v, func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("venue: %v", err)
		}
	}
}

func clientConfig(v *venue.Venue) (tradovate.Config, tradovate.Credentials) {
	return tradovate.Config{BaseURL: v.URL(), MDURL: v.MDURL(), User: "demo", Symbol: "MESZ5", CID: 8, AppID: "deskguard-test"},
		tradovate.Credentials{Password: "demo"}
}

func dial(t testing.TB, v *venue.Venue) *tradovate.Client {
	t.Helper()
	cfg, creds := clientConfig(v)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tradovate.Dial(ctx, cfg, creds, tradovate.Options{Log: testLog(t), Backoff: 10 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func trade(ns int64, price string, size int64, side market.Side) market.Trade {
	return market.Trade{Time: ns, Price: market.MustPrice(price), Size: size, Aggressor: side}
}

func tradovateDial(cfg tradovate.Config, password string) (*tradovate.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return tradovate.Dial(ctx, cfg, tradovate.Credentials{Password: password}, tradovate.Options{})
}
