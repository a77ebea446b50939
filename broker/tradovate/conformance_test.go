// This file runs the broker conformance suite over the real protocol: a
// venue in-process on loopback, the connector as the Broker.

package tradovate_test

import (
	"testing"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/brokertest"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

// venueMarket prints trades straight into the venue; Venue.Trade returns
// once the engine has matched the trade and the venue has queued the
// resulting pushes, so Sync has nothing left to wait for.
type venueMarket struct{ v *venue.Venue }

func (m venueMarket) Trade(t market.Trade) { m.v.Trade(t) }
func (m venueMarket) Sync() error          { return nil }

func TestConformance(t *testing.T) {
	brokertest.Run(t, brokertest.Harness{New: func(t *testing.T, accounts []string) (broker.Broker, brokertest.Market) {
		v, stop := startVenue(t, venue.Config{Accounts: accounts})
		t.Cleanup(stop)
		c := dial(t, v)
		t.Cleanup(func() { c.Close() })
		return c, venueMarket{v}
	}})
}

// TestConformanceRealistic runs the suite against the venue as `deskguard
// venue` serves by default (venue.Realistic: lists cut to a few entities,
// commands pushed late, reports and ticks out of id order, c frames), and
// with an empty clOrdId on every command besides.
func TestConformanceRealistic(t *testing.T) {
	for _, f := range []struct {
		name   string
		faults venue.Faults
	}{
		{"realistic", venue.Realistic()},
		{"realistic_no_clordid", func() venue.Faults { f := venue.Realistic(); f.EmptyClOrdID = true; f.ListCap = 2; return f }()},
	} {
		t.Run(f.name, func(t *testing.T) {
			brokertest.Run(t, brokertest.Harness{New: func(t *testing.T, accounts []string) (broker.Broker, brokertest.Market) {
				v, stop := startVenue(t, venue.Config{Accounts: accounts, Faults: f.faults})
				t.Cleanup(stop)
				c := dial(t, v)
				t.Cleanup(func() { c.Close() })
				return c, venueMarket{v}
			}})
		})
	}
}
