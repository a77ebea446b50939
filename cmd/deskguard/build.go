package main

// build.go: turning a config into the desk's parts — logger, journal,
// tokens, alert notifier, data feed, the risk rules' desk options —
// shared by run and replay.

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/supervisor"
)

func newLogger(w io.Writer, level string) *slog.Logger {
	lv := slog.LevelInfo
	switch level {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv}))
}

// loadConfig loads --config or the built-in defaults.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// openFeed opens the session's trades: a data file, or the synthetic
// session. derived says the trades were expanded from bars.
func openFeed(c *config.Config) (market.TradeReader, func(), string, bool, error) {
	if c.Data.File != "" {
		f, err := market.Open(c.Data.File, market.OpenOptions{Symbol: c.Data.Symbol})
		if err != nil {
			return nil, nil, "", false, err
		}
		info := f.Info()
		return f, func() { f.Close() }, fmt.Sprintf("%s (%s, %s)", c.Data.File, info.Format, info.Symbol), info.Derived, nil
	}
	r, err := synth.NewReader(synth.Options{Seed: c.Data.Seed, Regime: synth.Regime(c.Data.Regime)})
	if err != nil {
		return nil, nil, "", false, err
	}
	return r, func() {}, fmt.Sprintf("synthetic session (seed %d, %s)", c.Data.Seed, c.Data.Regime), false, nil
}

func specsWithIDs(c *config.Config) ([]supervisor.AccountSpec, []string) {
	specs := c.Specs()
	ids := make([]string, len(specs))
	for i, s := range specs {
		ids[i] = s.Config.ID
	}
	return specs, ids
}

// fail prints an error for a command and returns the exit code.
// withRisk sets the desk options of [risk]: the news calendar (loaded and
// checked with the config) and the desk ladder's rungs.
func withRisk(opt *supervisor.Options, c *config.Config) error {
	cal, err := c.NewsCalendar()
	if err != nil {
		return err
	}
	opt.Calendar = cal
	opt.DeskWarnPct, opt.DeskReduceOnlyPct = c.DeskLadder()
	return nil
}

func fail(e *env, cmd string, err error, code int) int {
	msg := err.Error()
	if !strings.HasPrefix(msg, "deskguard") {
		msg = "deskguard " + cmd + ": " + msg
	}
	fmt.Fprintln(e.stderr, msg)
	return code
}

var _ = os.Stderr
