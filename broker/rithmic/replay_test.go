// replay_test.go: a real session file through the R|Protocol venue and
// the feed: the trades that come off the wire are the file's (time, price,
// size and aggressor), and the delta engine — whose cumulative delta is
// built from the aggressor — proposes the same intents over the wire as
// over the file.

package rithmic_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker/rithmic"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/internal/shareddata"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
)

func readAll(t *testing.T, r market.TradeReader) []market.Trade {
	t.Helper()
	var out []market.Trade
	for {
		tr, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		tr.Seq = 0
		out = append(out, tr)
	}
}

func deltaIntents(t *testing.T, trades []market.Trade) []intent.Intent {
	t.Helper()
	engines, err := strategies.DefaultConfig().Engines("delta")
	if err != nil {
		t.Fatal(err)
	}
	r := strategies.NewRunner("replay", engines...)
	var out []intent.Intent
	for _, tr := range trades {
		out = append(out, r.OnTrade(tr)...)
	}
	return append(out, r.Flush()...)
}

func TestDeltaOverTheWireMatchesTheFile(t *testing.T) {
	for _, c := range []struct {
		file    string
		intents bool // the session has RTH trades: the engine proposes something
	}{
		{"es-ticks/esh4-glbx-mdp3-20231225.mbo.dbn.zst", false}, // aggressor sides from the exchange (MBO 'T')
		{"es-minute/20131008_trade.zip", true},                  // a whole RTH day, sides by the tick rule
	} {
		t.Run(c.file, func(t *testing.T) {
			path := shareddata.File(t, c.file)
			f, err := market.Open(path, market.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := readAll(t, f)
			f.Close()
			src, err := market.Open(path, market.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			v, stop := startVenueFeed(t, src)
			defer stop()
			cfg, creds := clientConfig(v)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			feed, err := rithmic.NewFeed(ctx, cfg, creds, options(t))
			if err != nil {
				t.Fatal(err)
			}
			defer feed.Close()
			stepped := make(chan error, 1)
			go func() { _, err := v.Step(len(want)); stepped <- err }()
			got := make([]market.Trade, 0, len(want))
			timeout := time.After(60 * time.Second)
			for len(got) < len(want) {
				select {
				case tr := <-feed.C():
					tr.Seq = 0
					got = append(got, tr)
				case <-timeout:
					t.Fatalf("the feed delivered %d of %d trades", len(got), len(want))
				}
			}
			if err := <-stepped; err != nil {
				t.Fatal(err)
			}
			var buys, sells int
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("trade %d: over the wire %+v, in the file %+v", i, got[i], want[i])
				}
				switch want[i].Aggressor {
				case market.Buy:
					buys++
				case market.Sell:
					sells++
				}
			}
			if buys == 0 || sells == 0 {
				t.Fatalf("%d buy and %d sell aggressors: the file proves nothing about the aggressor", buys, sells)
			}
			wi, gi := deltaIntents(t, want), deltaIntents(t, got)
			if c.intents && len(wi) == 0 {
				t.Fatal("the delta engine proposed nothing over the file: the comparison proves nothing")
			}
			if !reflect.DeepEqual(wi, gi) {
				t.Fatalf("delta intents differ: %d over the file, %d over the wire\nfile %+v\nwire %+v", len(wi), len(gi), wi, gi)
			}
			t.Logf("%d trades (%d buy, %d sell aggressors), %d delta intents, identical over the wire", len(want), buys, sells, len(wi))
		})
	}
}

// startVenueFeed runs a Manual venue over a feed stepped by the test.
func startVenueFeed(t *testing.T, feed market.TradeReader) (*rvenue.Venue, func()) {
	t.Helper()
	v, err := rvenue.New(rvenue.Config{Accounts: []string{"A"}, Manual: true, Symbol: "MESZ5"}, feed, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, v)
}
