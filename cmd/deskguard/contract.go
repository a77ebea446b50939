package main

// contract.go: the contract the desk trades when the config names none —
// the front MES month for the session's date (market.FrontMonth: the
// nearest quarterly month whose CME roll date, eight days before its expiry,
// is after the session's trade date), so it rolls with the calendar instead
// of being a fixed symbol: the synthetic session, the session of a data
// file's first trade (or the month the file names), or, for a real
// Tradovate environment, the session the wall clock is in (after 18:00 ET
// that is the next day's).

import (
	"fmt"
	"io"
	"time"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

// deskContract is the MES contract for c's session; now is the wall clock
// (for a live environment, whose session it is in).
func deskContract(c *config.Config, now time.Time) (market.Symbol, error) {
	if c.Broker.Kind == "tradovate" {
		return market.FrontMonth("MES", market.SessionOf(now)), nil
	}
	if c.Data.File == "" {
		return market.FrontMonth("MES", synth.DefaultDate), nil
	}
	f, err := market.Open(c.Data.File, market.OpenOptions{Symbol: c.Data.Symbol})
	if err != nil {
		return market.Symbol{}, err
	}
	defer f.Close()
	first, err := f.Next()
	if err == io.EOF {
		return market.Symbol{}, fmt.Errorf("%s: no trades: no session date to pick the contract by", c.Data.File)
	}
	if err != nil {
		return market.Symbol{}, err
	}
	at := time.Unix(0, first.Time)
	if s, err := market.ParseSymbol(f.Info().Symbol, at); err == nil && s.Month%3 == 0 {
		// The file's own contract month (ES data stands in for MES).
		return market.Symbol{Root: "MES", Year: s.Year, Month: s.Month}, nil
	}
	return market.FrontMonth("MES", market.SessionOf(at)), nil
}
