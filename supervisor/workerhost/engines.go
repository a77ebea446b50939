package workerhost

// engines.go: the EngineHost over strategies.Runner — the one way an
// account's engines are run, whether inside a `deskguard worker` child
// process or in-process for a replay.

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/strategies"
	"github.com/deskguard/deskguard/supervisor/wire"
)

// RunnerHost adapts a strategies.Runner to EngineHost. Returned intents are
// copies the caller may keep. It is safe for concurrent use: a live desk
// running engines in-process calls it from the tick path and from the
// broker-event path.
type RunnerHost struct {
	mu sync.Mutex
	r  *strategies.Runner
}

// NewRunnerHost builds the engines named in the hello with its config.
func NewRunnerHost(h wire.HelloMsg) (EngineHost, error) {
	cfg := strategies.DefaultConfig()
	if len(h.Config) > 0 {
		if err := json.Unmarshal(h.Config, &cfg); err != nil {
			return nil, fmt.Errorf("engines config: %w", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	engs, err := cfg.Engines(h.Strategies...)
	if err != nil {
		return nil, err
	}
	return &RunnerHost{r: strategies.NewRunner(h.Account, engs...)}, nil
}

func keep(in []intent.Intent) []intent.Intent {
	if len(in) == 0 {
		return nil
	}
	return append([]intent.Intent(nil), in...)
}

// OnTrade feeds one trade.
func (h *RunnerHost) OnTrade(t market.Trade) []intent.Intent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return keep(h.r.OnTrade(t))
}

// OnFill tells the owning engine about a fill.
func (h *RunnerHost) OnFill(f wire.FillMsg) []intent.Intent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return keep(h.r.OnFill(f.Strategy, strategies.Fill{ClientID: f.ClientID, Side: f.Side, Qty: f.Qty, Price: f.Price, Time: f.Time}))
}

// OnOrderDone tells the owning engine an order finished.
func (h *RunnerHost) OnOrderDone(d wire.OrderDoneMsg) []intent.Intent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return keep(h.r.OnOrderDone(d.Strategy, d.ClientID, d.Filled))
}

// OnPosition is informational: engines track their own fills.
func (h *RunnerHost) OnPosition(wire.PositionMsg) {}

// Flush closes the bars in progress at the end of a session.
func (h *RunnerHost) Flush() []intent.Intent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return keep(h.r.Flush())
}
