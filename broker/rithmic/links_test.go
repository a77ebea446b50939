// links_test.go: the connector inside a desk (package supervisor): the PnL
// plant killed at the venue shows in the desk's status links (the
// broker.Noter the desk asks), and goes when the plant is back.

package rithmic_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/accounts"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/supervisor"
)

func TestDeskLinksShowThePnLPlantDown(t *testing.T) {
	v, stop := startVenue(t, rvenue.Config{Accounts: []string{"A"}})
	defer stop()
	c := dial(t, v)
	defer c.Close()
	clock := market.NewReplayClock(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	j, err := journal.Open(filepath.Join(t.TempDir(), "desk.db"), journal.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	d, err := supervisor.New(supervisor.Options{Clock: clock, Journal: supervisor.JournalOf(j), Broker: c,
		Accounts: []supervisor.AccountSpec{{EnginesOff: true, Config: accounts.Config{ID: "A", StartEquity: decimal.NewFromInt(50000)}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctx10(t)
	notes := func() string { return strings.Join(d.Status(ctx).Links.Notes, "\n") }
	if n := notes(); n != "" {
		t.Fatalf("links notes with every plant up: %q", n)
	}
	v.PlantDown(rvenue.PnL, time.Hour)
	if err := c.WaitPnL(ctx, false); err != nil {
		t.Fatal(err)
	}
	if n := notes(); !strings.Contains(n, "PnL plant down") {
		t.Fatalf("links notes with the PnL plant down: %q", n)
	}
	v.RefuseLogins(rvenue.PnL, 0)
	if err := c.WaitPnL(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n := notes(); n != "" {
		t.Fatalf("links notes with the PnL plant back: %q", n)
	}
}
