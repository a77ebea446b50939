// conformance_test.go: the sim runs the exported broker conformance suite
// with asynchronous event delivery (the Events channel), as a connector
// would.
package sim_test

import (
	"testing"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/brokertest"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/market"
)

type simMarket struct{ s *sim.Sim }

func (m simMarket) Trade(t market.Trade) { m.s.OnTrade(t) }
func (m simMarket) Sync() error          { return nil }

func TestConformance(t *testing.T) {
	brokertest.Run(t, brokertest.Harness{New: func(t *testing.T, accounts []string) (broker.Broker, brokertest.Market) {
		s, err := sim.New(sim.Config{Accounts: accounts})
		if err != nil {
			t.Fatal(err)
		}
		return s, simMarket{s}
	}})
}
