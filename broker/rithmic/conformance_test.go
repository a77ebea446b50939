// conformance_test.go: the broker conformance suite over R|Protocol: a
// venue in-process on loopback, the connector as the Broker, its feed
// drained so that market entries' brackets have their reference price.

package rithmic_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/brokertest"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/market"
)

// venueMarket prints trades into the venue; Sync returns once the client's
// feed has delivered every trade printed (the venue has queued the order
// notifications before its Trade returns).
type venueMarket struct {
	v  *rvenue.Venue
	tp *tape
	n  int
}

func (m *venueMarket) Trade(t market.Trade) { m.v.Trade(t); m.n++ }

func (m *venueMarket) Sync() error {
	if !m.tp.wait(m.n, 5*time.Second) {
		return fmt.Errorf("feed delivered %d of %d trades", len(m.tp.trades()), m.n)
	}
	return nil
}

func TestConformance(t *testing.T) {
	brokertest.Run(t, brokertest.Harness{New: func(t *testing.T, accounts []string) (broker.Broker, brokertest.Market) {
		v, stop := startVenue(t, rvenue.Config{Accounts: accounts})
		t.Cleanup(stop)
		c := dial(t, v)
		t.Cleanup(func() { c.Close() })
		return c, &venueMarket{v: v, tp: startTape(t, c)}
	}})
}
