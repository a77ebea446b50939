// This file checks the market-data feed over the venue's md socket (price,
// size, time to the millisecond, the aggressor by the tick rule where the
// book says nothing), the end of history, penalty tickets, ticks out of
// id order, the silence watchdog and the backfill after an outage, and
// fuzzes the frame and tick-packet decoders.

package tradovate

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

func serveVenue(t *testing.T, cfg venue.Config) *venue.Venue {
	t.Helper()
	if len(cfg.Accounts) == 0 {
		cfg.Accounts = []string{"A"}
	}
	cfg.Manual = true
	v, err := venue.New(cfg, nil, nil)
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
	t.Cleanup(func() { cancel(); <-served })
	<-v.Ready()
	return v
}

func feedOpts() Options {
	return Options{Backoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
}

func newFeed(t *testing.T, v *venue.Venue, opt Options) *Feed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	f, err := NewFeed(ctx, Config{BaseURL: v.URL(), MDURL: v.MDURL(), User: "demo"}, Credentials{Password: "demo"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func next(t *testing.T, f *Feed) market.Trade {
	t.Helper()
	select {
	case tr := <-f.C():
		return tr
	case <-time.After(10 * time.Second):
		t.Fatal("no trade within 10s")
	}
	return market.Trade{}
}

func session(t *testing.T, n int) []market.Trade {
	t.Helper()
	trades, err := synth.Generate(synth.Options{Seed: 3, Scale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	return trades[:n]
}

// TestFeedFromVenue: every trade arrives once, with its price, size and
// millisecond time. The venue's book is one tick either side of every
// trade, whatever the aggressor, so the aggressor must be the tick rule's,
// computed here on the trades themselves (not from the book the venue
// built: that was circular).
func TestFeedFromVenue(t *testing.T) {
	trades := session(t, 500)
	v := serveVenue(t, venue.Config{})
	f := newFeed(t, v, feedOpts())
	for _, tr := range trades {
		v.Trade(tr)
	}
	var rule market.TickRule
	for i, want := range trades {
		got := next(t, f)
		want.Aggressor = market.Unknown
		rule.Apply(&want)
		if got.Price != want.Price || got.Size != want.Size || got.Time != want.Time/1e6*1e6 || got.Seq != uint64(i+1) || got.Aggressor != want.Aggressor {
			t.Fatalf("trade %d: got %+v want %+v", i, got, want)
		}
	}
}

// TestFeedEndOfHistory: the venue ends the chart's history with {id, eoh:
// true} (no ts). It used to be rejected as a malformed packet and the
// session torn down, reconnecting over and over; now one session carries
// on.
func TestFeedEndOfHistory(t *testing.T) {
	v := serveVenue(t, venue.Config{})
	v.Trade(market.Trade{Time: 1_710_250_200_000_000_000, Price: 20400, Size: 1}) // one tick of history
	f := newFeed(t, v, feedOpts())
	for i := 1; i <= 50; i++ {
		v.Trade(market.Trade{Time: 1_710_250_200_000_000_000 + int64(i)*1e6, Price: 20400 + market.Price(i%3), Size: 1})
	}
	for i := 1; i <= 50; i++ {
		if got := next(t, f); got.Time != 1_710_250_200_000_000_000+int64(i)*1e6 {
			t.Fatalf("trade %d at %d", i, got.Time)
		}
	}
	if s := v.Stats(); s.SocketsOpened != 1 || s.History != 1 {
		t.Fatalf("%d md sockets and %d chart requests for one subscription", s.SocketsOpened, s.History)
	}
}

// TestFeedPenaltyTicket: a getChart reply that is a penalty ticket is not
// a subscription: the feed waits p-time, sends the request again with
// the ticket, and only then is subscribed.
func TestFeedPenaltyTicket(t *testing.T) {
	v := serveVenue(t, venue.Config{})
	v.PenalizeSocketNext(1, 1, false)
	f := newFeed(t, v, feedOpts())
	if s := v.Stats(); s.SocketPenalties != 1 || s.SocketRetried != 1 {
		t.Fatalf("subscribed after %d penalties and %d retries with the ticket", s.SocketPenalties, s.SocketRetried)
	}
	v.Trade(market.Trade{Time: 1_710_250_200_000_000_000, Price: 20400, Size: 2})
	if got := next(t, f); got.Size != 2 {
		t.Fatalf("trade %+v", got)
	}
}

// TestFeedCaptcha: a p-captcha cannot be answered by a server: an error.
func TestFeedCaptcha(t *testing.T) {
	v := serveVenue(t, venue.Config{})
	v.PenalizeSocketNext(1, 0, true)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := NewFeed(ctx, Config{BaseURL: v.URL(), MDURL: v.MDURL(), User: "demo"}, Credentials{Password: "demo"}, feedOpts())
	if !errors.Is(err, ErrCaptcha) {
		t.Fatalf("err %v, want ErrCaptcha", err)
	}
}

// TestFeedTicksOutOfOrder: with every other tick sent after the next one,
// no tick is dropped (they used to be, below a high-water mark) and the
// times the feed gives never go back.
func TestFeedTicksOutOfOrder(t *testing.T) {
	trades := session(t, 400)
	v := serveVenue(t, venue.Config{Faults: venue.Faults{ShuffleTicks: true}})
	f := newFeed(t, v, feedOpts())
	for _, tr := range trades {
		v.Trade(tr)
	}
	want := map[[2]int64]int{}
	for _, tr := range trades {
		want[[2]int64{int64(tr.Price), tr.Size}]++
	}
	last := int64(0)
	for range trades {
		got := next(t, f)
		k := [2]int64{int64(got.Price), got.Size}
		if want[k] == 0 {
			t.Fatalf("unexpected trade %+v", got)
		}
		want[k]--
		if got.Time < last {
			t.Fatalf("time went back: %d after %d", got.Time, last)
		}
		last = got.Time
	}
	if s := f.Stats(); s.Late != len(trades)/2 || s.Trades != uint64(len(trades)) {
		t.Fatalf("stats %+v", s)
	}
}

// TestFeedSilentServer: the venue stops sending anything on the md socket
// (no heartbeats) but keeps it open. The feed marks itself down within the
// silence bound and subscribes again.
func TestFeedSilentServer(t *testing.T) {
	v := serveVenue(t, venue.Config{HeartbeatEvery: 20 * time.Millisecond})
	opt := feedOpts()
	opt.SilenceTimeout = 200 * time.Millisecond
	f := newFeed(t, v, opt)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v.SilenceSockets()
	if err := f.WaitSubscribed(ctx, false); err != nil {
		t.Fatalf("a silent server was not noticed: %v", err)
	}
	if err := f.WaitSubscribed(ctx, true); err != nil {
		t.Fatal(err)
	}
	v.Trade(market.Trade{Time: 1_710_250_200_000_000_000, Price: 20400, Size: 5})
	if got := next(t, f); got.Size != 5 {
		t.Fatalf("trade after the reconnect %+v", got)
	}
}

// TestFeedBackfill: the md link is cut while trades go on; on reconnect
// the feed takes the trades it missed from the chart's history (each
// once, in order, before the live ones) and records the gap as complete.
// With a history cut to a few ticks it pages back; with too few pages it
// says the gap is incomplete.
func TestFeedBackfill(t *testing.T) {
	for _, c := range []struct {
		name       string
		historyCap int
		complete   bool
	}{
		{"whole history", 0, true},
		{"history cut, paged back", 4, true},
		{"history cut too far", 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := serveVenue(t, venue.Config{Faults: venue.Faults{HistoryCap: c.historyCap}})
			f := newFeed(t, v, feedOpts())
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			base := int64(1_710_250_200_000_000_000)
			tr := func(i int) market.Trade {
				return market.Trade{Time: base + int64(i)*int64(time.Millisecond), Price: 20400 + market.Price(i%5), Size: int64(i)}
			}
			for i := 1; i <= 5; i++ {
				v.Trade(tr(i))
				next(t, f)
			}
			v.RefuseSockets(true)
			v.DropWebSockets()
			if err := f.WaitSubscribed(ctx, false); err != nil {
				t.Fatal(err)
			}
			for i := 6; i <= 12; i++ { // while the feed is away
				v.Trade(tr(i))
			}
			v.RefuseSockets(false)
			if err := f.WaitSubscribed(ctx, true); err != nil {
				t.Fatal(err)
			}
			v.Trade(tr(13))
			want := []int{6, 7, 8, 9, 10, 11, 12, 13}
			if !c.complete {
				want = []int{13} // nothing of 6..12 reached: 11, 12 at most
			}
			var got []int64
			for {
				g := next(t, f)
				got = append(got, g.Size)
				if g.Size == 13 {
					break
				}
			}
			if c.complete {
				if len(got) != len(want) {
					t.Fatalf("got sizes %v, want %v", got, want)
				}
				for i := range want {
					if got[i] != int64(want[i]) {
						t.Fatalf("got sizes %v, want %v", got, want)
					}
				}
			}
			gaps := f.Gaps()
			had, incomplete := f.DataGap()
			if len(gaps) != 1 || !had || incomplete == c.complete || gaps[0].Complete != c.complete {
				t.Fatalf("gaps %+v (had %v incomplete %v), want one, complete %v", gaps, had, incomplete, c.complete)
			}
			if c.complete && gaps[0].Backfilled != 7 {
				t.Fatalf("backfilled %d, want 7", gaps[0].Backfilled)
			}
		})
	}
}

func TestDecodePacket(t *testing.T) {
	p := tickPacket{ID: 1, BP: 20400, BT: 1_710_250_200_000, TS: 0.25, Tks: []tickRaw{
		{T: 0, P: 0, S: 2, B: -1, A: 0, BS: 1, AS: 1, ID: 10},  // at the ask: buy
		{T: 5, P: -1, S: 1, B: -1, A: 0, BS: 1, AS: 1, ID: 11}, // at the bid: sell
		{T: 6, P: 0, S: 1, ID: 12},                             // no book: tick rule (uptick → buy)
		{T: 7, P: 0, S: 1, B: -1, A: 1, BS: 1, AS: 1, ID: 13},  // inside the spread: tick rule (zero tick → buy)
	}}
	var rule market.TickRule
	got, ids, err := decodePacket(p, &rule)
	if err != nil {
		t.Fatal(err)
	}
	want := []market.Trade{
		{Time: 1_710_250_200_000 * 1e6, Price: 20400, Size: 2, Aggressor: market.Buy},
		{Time: 1_710_250_200_005 * 1e6, Price: 20399, Size: 1, Aggressor: market.Sell},
		{Time: 1_710_250_200_006 * 1e6, Price: 20400, Size: 1, Aggressor: market.Buy},
		{Time: 1_710_250_200_007 * 1e6, Price: 20400, Size: 1, Aggressor: market.Buy},
	}
	if len(got) != len(want) || len(ids) != 4 || ids[3] != 13 {
		t.Fatalf("got %+v ids %v", got, ids)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("tick %d: got %+v want %+v", i, got[i], want[i])
		}
	}
	if _, _, err := decodePacket(tickPacket{TS: 0.1, Tks: []tickRaw{{S: 1, ID: 1}}}, &rule); err == nil {
		t.Error("tick size 0.1 accepted")
	}
	if tr, _, err := decodePacket(tickPacket{ID: 1, EOH: true}, &rule); err != nil || tr != nil {
		t.Errorf("end of history: %v %v", tr, err)
	}
}

// TestFeedDedupByID: a tick seen once is not delivered again, whatever
// order ticks come in; an older one not seen is (with the latest time).
func TestFeedDedupByID(t *testing.T) {
	f := &Feed{seen: map[int64]bool{}}
	pk := func(ids ...int64) tickPacket {
		p := tickPacket{ID: 1, BP: 20400, BT: 1000, TS: 0.25}
		for _, id := range ids {
			p.Tks = append(p.Tks, tickRaw{T: id, S: 1, ID: id})
		}
		return p
	}
	var got []int64
	for _, p := range []tickPacket{pk(5, 3), pk(4, 5), pk(7), pk(6, 3)} {
		for _, tr := range f.decode(p) {
			got = append(got, tr.Time/1e6-1000)
		}
	}
	// 3, 5 (sorted in the packet); 4 late → time of 5; 5 again dropped; 7;
	// 6 late → 7; 3 again dropped.
	want := []int64{3, 5, 5, 7, 7}
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
	if s := f.stats; s.Duplicates != 2 || s.Late != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestBackoffNotResetBySubscribedFailure: sessions that subscribe and
// fail at once double the delay (they used to reset it: a reconnect
// storm); a session that stayed up resets it.
func TestBackoffNotResetBySubscribedFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Unix(0, 0)
	var delays []time.Duration
	runs := 0
	wait := func(d time.Duration) <-chan time.Time {
		delays = append(delays, d)
		ch := make(chan time.Time, 1)
		ch <- now
		return ch
	}
	backoffLoop(ctx, 10*time.Millisecond, 80*time.Millisecond, time.Second, wait, func() time.Time { return now },
		func() (time.Duration, error) {
			runs++
			if runs == 6 {
				now = now.Add(2 * time.Second) // this one stays up
			}
			if runs == 8 {
				cancel()
			}
			return 0, errors.New("closed right after subscribing")
		}, func(error, time.Duration) {})
	want := []time.Duration{10, 20, 40, 80, 80, 10, 20}
	if len(delays) != len(want) {
		t.Fatalf("delays %v", delays)
	}
	for i := range want {
		if delays[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v, want %v ms", delays, want)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{"o", "h", "c[1000,\"bye\"]", `a[{"i":0,"s":200}]`,
		`a[{"e":"props","d":{"entityType":"order","eventType":"Created","entity":{"id":1}}}]`, "", "x", "a[", "o{}",
		`a[{"e":"chart","d":{"charts":[{"id":1,"eoh":true}]}}]`, `a[{"i":1,"s":200,"d":{"p-ticket":"t","p-time":1}}]`} {
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
		_ = closeReason(b)
		for _, m := range msgs {
			penaltyOf(m.D)
		}
	})
}

func FuzzDecodePacket(f *testing.F) {
	f.Add([]byte(`{"id":1,"td":20240312,"bp":20400,"bt":1710250200000,"ts":0.25,"tks":[{"t":0,"p":0,"s":1,"b":-1,"a":0,"bs":1,"as":1,"id":1}]}`))
	f.Add([]byte(`{"ts":0,"tks":[{"s":0}]}`))
	f.Add([]byte(`{"ts":0.5,"bp":-3,"tks":[{"s":5,"id":7,"p":-9223372036854775807}]}`))
	f.Add([]byte(`{"id":16335,"eoh":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p tickPacket
		if json.Unmarshal(b, &p) != nil {
			return
		}
		var rule market.TickRule
		trades, ids, err := decodePacket(p, &rule)
		if len(ids) != len(trades) {
			t.Fatalf("%d ids for %d trades", len(ids), len(trades))
		}
		for _, tr := range trades {
			if tr.Size <= 0 {
				t.Fatalf("trade with size %d", tr.Size)
			}
		}
		if p.EOH && (err != nil || len(trades) > 0) {
			t.Fatal("an end-of-history packet made trades or an error")
		}
		fd := &Feed{seen: map[int64]bool{}}
		last := int64(-1 << 62)
		for _, tr := range fd.decode(p) {
			if tr.Time < last {
				t.Fatal("decoded times go back")
			}
			last = tr.Time
		}
	})
}
