package main

// wiring.go: the desk's outside parts for `deskguard run` — the venue
// connection, the panic button and lights, and the Slack adapter.

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/hw"
	"github.com/deskguard/deskguard/supervisor"
)

// deskRef lets parts built before the desk call it once it exists.
type deskRef struct {
	mu sync.Mutex
	d  *supervisor.Desk
}

func (r *deskRef) set(d *supervisor.Desk) { r.mu.Lock(); r.d = d; r.mu.Unlock() }

func (r *deskRef) get() *supervisor.Desk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.d
}

func (r *deskRef) Flatten(ctx context.Context, account, trigger, who string) error {
	r.mu.Lock()
	d := r.d
	r.mu.Unlock()
	if d == nil {
		return fmt.Errorf("desk not started")
	}
	return d.Flatten(ctx, account, trigger, who)
}

// hwParts is the panic button and lights as the desk sees them.
type hwParts struct {
	dev    *hw.Device
	ref    *deskRef
	mu     sync.Mutex
	health string
}

// Attach points the button at the desk.
func (h *hwParts) Attach(d *supervisor.Desk) {
	if h != nil {
		h.ref.set(d)
	}
}

// openHW builds the [hw] device (the default desk has a simulated button
// and simulated lights) and starts it.
func openHW(ctx context.Context, c *config.Config, log *slog.Logger) (*hwParts, func() string, func() (bool, bool, bool, bool), func() error, error) {
	cfg := config.DefaultHW()
	if err := c.Decode("hw", &cfg); err != nil {
		return nil, nil, nil, nil, err
	}
	h := &hwParts{ref: &deskRef{}, health: "ok"}
	dev, err := hw.Open(cfg, h.ref, hw.Options{Log: log.With("part", "hw"), OnHealth: func(ok bool, why string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if ok {
			h.health = "ok"
		} else {
			h.health = "offline: " + why
			log.Error("panic button offline", "why", why)
		}
		if d := h.ref.get(); d != nil {
			go d.LinkHealth("panic_button", ok, why) // the desk goes degraded while the button is offline
		}
	}})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	h.dev = dev
	go func() { _ = dev.Run(ctx) }()
	status := func() string {
		h.mu.Lock()
		defer h.mu.Unlock()
		if dev.Sim != nil && h.health == "ok" {
			return "sim"
		}
		return h.health
	}
	lights := func() (bool, bool, bool, bool) {
		s := dev.Lights.State()
		return s.Green, s.Red, s.Blinking, s.Buzzer
	}
	var press func() error
	if dev.Sim != nil {
		press = func() error { return dev.Click(0) }
	}
	return h, status, lights, press, nil
}

// slackDesk adapts the desk to what Slack commands may do; zone is the
// desk's, for the status reply's time.
type slackDesk struct {
	d    *supervisor.Desk
	zone *time.Location
}

func (s slackDesk) Flatten(ctx context.Context, account, trigger, who string) error {
	return s.d.Flatten(ctx, account, trigger, who)
}

func (s slackDesk) Status(ctx context.Context) (alerts.StatusReport, error) {
	st := authz.StatusFor(authz.Slack, s.d.Status(ctx)) // the one visibility filter
	r := alerts.StatusReport{State: st.State, At: time.Now(), Zone: s.zone}
	for _, a := range st.Accounts {
		net, _ := decimal.NewFromString(a.Net)
		r.Accounts = append(r.Accounts, alerts.AccountStatus{ID: a.ID, State: a.State, Position: a.Position, Net: net,
			DrawdownUsed: decimal.NewFromFloat(a.DrawdownUsed).Round(4), WorkingOrders: len(a.Orders)})
	}
	return r, nil
}
