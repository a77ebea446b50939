// This file is the reconnect after a refused authorize: with the venue's
// tokens expired, a socket's authorize is refused, the connector renews
// the token and authorizes again at once with the new one — it does not
// wait a reconnect backoff first.

package tradovate_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

// downs records the connector's "socket down; reconnecting" warnings.
type downs struct {
	mu  sync.Mutex
	got []string // "user: err" / "md: err"
}

func (d *downs) Enabled(context.Context, slog.Level) bool { return true }
func (d *downs) Handle(_ context.Context, r slog.Record) error {
	which := ""
	switch r.Message {
	case "tradovate: user socket down; reconnecting":
		which = "user"
	case "tradovate: md socket down; reconnecting":
		which = "md"
	default:
		return nil
	}
	msg := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			msg = a.Value.String()
		}
		return true
	})
	d.mu.Lock()
	d.got = append(d.got, which+": "+msg)
	d.mu.Unlock()
	return nil
}
func (d *downs) WithAttrs([]slog.Attr) slog.Handler { return d }
func (d *downs) WithGroup(string) slog.Handler      { return d }

// TestRefusedAuthorizeRetriesAtOnceWithTheRenewedToken: every token
// expired and every socket dropped. Each socket's next authorize is
// refused; the connector renews and authorizes again on the spot, so the
// only "down" each socket logs is the drop itself — not a second one for
// the refused authorize, followed by a backoff with a fresh token in hand
// (drill venue-faults, seed 37: the user socket waited 3.2 s that way).
func TestRefusedAuthorizeRetriesAtOnceWithTheRenewedToken(t *testing.T) {
	v, stop := startVenue(t, venue.Config{Accounts: []string{"A"}})
	defer stop()
	cfg, creds := clientConfig(v)
	rec := &downs{}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := tradovate.Dial(ctx, cfg, creds, tradovate.Options{Log: slog.New(rec), Backoff: 10 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, err := c.Feed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("%s: %v", what, ctx.Err())
			case <-time.After(5 * time.Millisecond): // polling an outside state
			}
		}
	}
	eventually("connected before", func() bool { return c.Connected() && f.Subscribed() })
	syncs := c.Syncs()
	auths := v.Stats().Auths
	v.ExpireTokens()
	v.DropWebSockets()
	if err := c.WaitSynced(ctx, syncs+1); err != nil {
		t.Fatal(err)
	}
	eventually("up again", func() bool { return c.Connected() && f.Subscribed() })
	if v.Stats().Auths <= auths {
		t.Fatal("no new accesstokenrequest after the tokens expired")
	}
	v.Trade(market.Trade{Time: 1_710_250_200_000_000_000, Price: market.MustPrice("5100.00"), Size: 1})
	if _, err := f.Next(); err != nil {
		t.Fatalf("trade after the reconnect: %v", err)
	}
	rec.mu.Lock()
	got := append([]string(nil), rec.got...)
	rec.mu.Unlock()
	for _, g := range got {
		if strings.Contains(g, "authentication refused") {
			t.Fatalf("a socket went to the backoff after its refused authorize instead of retrying with the renewed token: %q", got)
		}
	}
	if len(got) != 2 {
		t.Fatalf("socket downs %q: want the drop of each socket, once", got)
	}
}
