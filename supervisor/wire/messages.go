package wire

// messages.go: the JSON payloads of the non-tick frames.

import (
	"encoding/json"

	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
)

// HelloMsg starts (or restarts) a worker: which account and engines, with
// the engines' configuration as the supervisor loaded it.
type HelloMsg struct {
	Account    string          `json:"account"`
	Strategies []string        `json:"strategies"`
	Config     json.RawMessage `json:"config,omitempty"` // strategies config (TOML-tagged struct as JSON)
	Restart    int             `json:"restart"`          // how many times this worker was restarted
}

// IntentMsg carries one intent from a worker.
type IntentMsg struct {
	Intent intent.Intent `json:"intent"`
}

// FillMsg tells a worker one of its orders filled.
type FillMsg struct {
	ClientID string       `json:"client_id"`
	Strategy string       `json:"strategy"`
	Side     market.Side  `json:"side"`
	Qty      int64        `json:"qty"`
	Price    market.Price `json:"price"`
	Time     int64        `json:"time"`
}

// OrderDoneMsg tells a worker an order is finished.
type OrderDoneMsg struct {
	ClientID string `json:"client_id"`
	Strategy string `json:"strategy"`
	Filled   bool   `json:"filled"`
	Reason   string `json:"reason,omitempty"`
}

// PositionMsg syncs a worker's view of its account position.
type PositionMsg struct {
	Qty      int64        `json:"qty"`
	AvgPrice market.Price `json:"avg_price"`
}

// DecisionMsg returns the gate's answer for an intent.
type DecisionMsg struct {
	ClientID string `json:"client_id"`
	Strategy string `json:"strategy"`
	Allowed  bool   `json:"allowed"`
	Reason   string `json:"reason,omitempty"`
}

// PingMsg / PongMsg are heartbeats; N echoes back.
type PingMsg struct {
	N uint64 `json:"n"`
}
