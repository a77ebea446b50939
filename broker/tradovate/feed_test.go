// This file checks the market-data feed over the venue's md socket (price,
// size, time to the millisecond, aggressor from the bid/ask) and fuzzes
// the frame and tick-packet decoders.

package tradovate

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

func TestFeedFromVenue(t *testing.T) {
	trades, err := synth.Generate(synth.Options{Seed: 3, Scale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	trades = trades[:500]
	v, err := venue.New(venue.Config{Accounts: []string{"A"}, Manual: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- v.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()
	<-v.Ready()
	cfg := Config{BaseURL: v.URL(), MDURL: v.MDURL(), User: "demo"}
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	f, err := NewFeed(dctx, cfg, Credentials{Password: "demo"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tr := range trades {
		v.Trade(tr)
	}
	for i, want := range trades {
		got, err := f.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got.Price != want.Price || got.Size != want.Size || got.Time != want.Time/1e6*1e6 || got.Seq != uint64(i+1) {
			t.Fatalf("trade %d: got %+v want %+v", i, got, want)
		}
		if want.Aggressor != market.Unknown && got.Aggressor != want.Aggressor {
			t.Fatalf("trade %d: aggressor %v, want %v", i, got.Aggressor, want.Aggressor)
		}
	}
}

func TestDecodePacket(t *testing.T) {
	p := tickPacket{ID: 1, BP: 20400, BT: 1_710_250_200_000, TS: 0.25, Tks: []tickRaw{
		{T: 0, P: 0, S: 2, B: -1, A: 0, BS: 1, AS: 1, ID: 10},  // at the ask: buy
		{T: 5, P: -1, S: 1, B: -1, A: 0, BS: 1, AS: 1, ID: 11}, // at the bid: sell
		{T: 6, P: 0, S: 1, ID: 12},                             // no book: tick rule (uptick → buy)
		{T: 7, P: 0, S: 1, ID: 9},                              // repeated id: skipped
	}}
	var rule market.TickRule
	got, last, err := decodePacket(p, 0, &rule)
	if err != nil {
		t.Fatal(err)
	}
	want := []market.Trade{
		{Time: 1_710_250_200_000 * 1e6, Price: 20400, Size: 2, Aggressor: market.Buy},
		{Time: 1_710_250_200_005 * 1e6, Price: 20399, Size: 1, Aggressor: market.Sell},
		{Time: 1_710_250_200_006 * 1e6, Price: 20400, Size: 1, Aggressor: market.Buy},
	}
	if last != 12 || len(got) != len(want) {
		t.Fatalf("got %+v last %d", got, last)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("tick %d: got %+v want %+v", i, got[i], want[i])
		}
	}
	if _, _, err := decodePacket(tickPacket{TS: 0.1, Tks: []tickRaw{{S: 1, ID: 1}}}, 0, &rule); err == nil {
		t.Error("tick size 0.1 accepted")
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{"o", "h", "c[1000,\"bye\"]", `a[{"i":0,"s":200}]`,
		`a[{"e":"props","d":{"entityType":"order","eventType":"Created","entity":{"id":1}}}]`, "", "x", "a[", "o{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, msgs, err := parseFrame(b)
		if err != nil {
			return
		}
		if kind != frameOpen && kind != frameHeartbeat && kind != frameArray && kind != frameClose {
			t.Fatalf("kind %q accepted", kind)
		}
		if kind != frameArray && msgs != nil {
			t.Fatal("messages on a non-array frame")
		}
	})
}

func FuzzDecodePacket(f *testing.F) {
	f.Add([]byte(`{"id":1,"td":20240312,"bp":20400,"bt":1710250200000,"ts":0.25,"tks":[{"t":0,"p":0,"s":1,"b":-1,"a":0,"bs":1,"as":1,"id":1}]}`))
	f.Add([]byte(`{"ts":0,"tks":[{"s":0}]}`))
	f.Add([]byte(`{"ts":0.5,"bp":-3,"tks":[{"s":5,"id":7,"p":-9223372036854775807}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p tickPacket
		if json.Unmarshal(b, &p) != nil {
			return
		}
		var rule market.TickRule
		trades, last, err := decodePacket(p, 0, &rule)
		for _, tr := range trades {
			if tr.Size <= 0 {
				t.Fatalf("trade with size %d", tr.Size)
			}
		}
		if err == nil && len(trades) > 0 && last == 0 && trades[len(trades)-1].Size == 0 {
			t.Fatal("inconsistent")
		}
	})
}
