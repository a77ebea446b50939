package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/market"
)

// openVenue starts (or connects to) a venue over the Tradovate protocol.
func openVenue(ctx context.Context, e *env, c *config.Config, ids []string, log *slog.Logger) (
	broker.Broker, interface{ OnTrade(market.Trade) }, func() string, func(), error) {
	return nil, nil, nil, nil, fmt.Errorf("broker kind %q is not wired yet; use kind = \"sim\"", c.Broker.Kind)
}
