// config.go: the [hw] configuration (pins, wiring, pull, timings), its
// defaults and its validation with errors that name the key at fault.
package hw

import (
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// SimPin is the pin name that selects the simulated button or light.
const SimPin = "sim"

// Wiring values.
const (
	NormallyOpen   = "normally_open"
	NormallyClosed = "normally_closed"
)

// Defaults.
const (
	DefaultDebounce    = 20 * time.Millisecond
	DefaultWireCutHold = 500 * time.Millisecond
	DefaultPoll        = 200 * time.Millisecond
	DefaultBlinkPeriod = 500 * time.Millisecond
	DefaultBuzzerPulse = 300 * time.Millisecond
)

// Config is the [hw] table. Pin names are whatever gpioreg.ByName accepts
// ("GPIO17", "17", "P1_11"), "sim" for a simulated pin, or "" for none.
type Config struct {
	ButtonPin string `toml:"button_pin"`
	// Wiring is "normally_open" (default) or "normally_closed".
	Wiring string `toml:"wiring"`
	// Pull is the internal bias on the button line: "up" (default), "down"
	// or "none" (external resistor; then PressedLevel is required).
	Pull string `toml:"pull"`
	// PressedLevel overrides the level that means "pressed" ("low" or
	// "high"). Empty derives it: normally_open + pull up → low, normally_open
	// + pull down → high, normally_closed the opposite (the line opens).
	PressedLevel string `toml:"pressed_level"`
	// Debounce: a press counts when the pressed level holds this long.
	Debounce time.Duration `toml:"debounce"`
	// WireCutHold (normally_closed only): a line open this long is a cut
	// wire (or a held button): flatten with "panic_button_wire_cut" and
	// report the button offline. Negative disables the check.
	WireCutHold time.Duration `toml:"wire_cut_hold"`
	// Poll is the WaitForEdge timeout (how often the watcher wakes without
	// an edge, to check for a stop or a dead driver).
	Poll time.Duration `toml:"poll"`
	// StallAfter: no return from WaitForEdge for this long reports the
	// watcher stalled. 0 = 10 × Poll; negative disables.
	StallAfter time.Duration `toml:"stall_after"`

	GreenPin    string        `toml:"green_pin"`
	RedPin      string        `toml:"red_pin"`
	BuzzerPin   string        `toml:"buzzer_pin"`
	BlinkPeriod time.Duration `toml:"blink_period"` // a full on+off cycle of the red light while halting
	BuzzerPulse time.Duration `toml:"buzzer_pulse"` // how long the buzzer sounds on a kill
}

// ConfigError is a bad [hw] value.
type ConfigError struct {
	Key   string
	Value string
	Why   string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("hw: %s = %q: %s", e.Key, e.Value, e.Why)
}

// WithDefaults returns c with empty values filled in.
func (c Config) WithDefaults() Config {
	if c.Wiring == "" {
		c.Wiring = NormallyOpen
	}
	if c.Pull == "" {
		c.Pull = "up"
	}
	if c.Debounce == 0 {
		c.Debounce = DefaultDebounce
	}
	if c.WireCutHold == 0 {
		c.WireCutHold = DefaultWireCutHold
	}
	if c.Poll == 0 {
		c.Poll = DefaultPoll
	}
	if c.StallAfter == 0 {
		c.StallAfter = 10 * c.Poll
	}
	if c.BlinkPeriod == 0 {
		c.BlinkPeriod = DefaultBlinkPeriod
	}
	if c.BuzzerPulse == 0 {
		c.BuzzerPulse = DefaultBuzzerPulse
	}
	return c
}

// Validate checks a config (after WithDefaults) and returns the first
// problem as a *ConfigError.
func (c Config) Validate() error {
	bad := func(key, val, why string) error { return &ConfigError{Key: key, Value: val, Why: why} }
	dur := func(key string, d time.Duration, lo, hi time.Duration) error {
		if d < lo || d > hi {
			return bad(key, d.String(), fmt.Sprintf("must be between %s and %s", lo, hi))
		}
		return nil
	}
	switch c.Wiring {
	case NormallyOpen, NormallyClosed:
	default:
		return bad("wiring", c.Wiring, `must be "normally_open" or "normally_closed"`)
	}
	switch c.Pull {
	case "up", "down", "none":
	default:
		return bad("pull", c.Pull, `must be "up", "down" or "none"`)
	}
	switch strings.ToLower(c.PressedLevel) {
	case "", "low", "high":
	default:
		return bad("pressed_level", c.PressedLevel, `must be "low" or "high" (or empty to derive it from wiring and pull)`)
	}
	if c.Pull == "none" && c.PressedLevel == "" && c.ButtonPin != "" && c.ButtonPin != SimPin {
		return bad("pressed_level", c.PressedLevel, `is required when pull = "none" (say which level an external resistor gives a pressed button)`)
	}
	if err := dur("debounce", c.Debounce, time.Millisecond, time.Second); err != nil {
		return err
	}
	if c.Wiring == NormallyClosed && c.WireCutHold >= 0 && c.WireCutHold <= c.Debounce {
		return bad("wire_cut_hold", c.WireCutHold.String(), fmt.Sprintf("must be longer than debounce (%s), or negative to disable", c.Debounce))
	}
	if c.WireCutHold > time.Minute {
		return bad("wire_cut_hold", c.WireCutHold.String(), "must be at most 1m0s")
	}
	if err := dur("poll", c.Poll, time.Millisecond, 10*time.Second); err != nil {
		return err
	}
	if c.StallAfter >= 0 && c.StallAfter <= c.Poll {
		return bad("stall_after", c.StallAfter.String(), fmt.Sprintf("must be longer than poll (%s), or negative to disable", c.Poll))
	}
	if err := dur("blink_period", c.BlinkPeriod, 20*time.Millisecond, 10*time.Second); err != nil {
		return err
	}
	if err := dur("buzzer_pulse", c.BuzzerPulse, time.Millisecond, 10*time.Second); err != nil {
		return err
	}
	seen := map[string]string{}
	for _, p := range []struct{ key, val string }{
		{"button_pin", c.ButtonPin}, {"green_pin", c.GreenPin}, {"red_pin", c.RedPin}, {"buzzer_pin", c.BuzzerPin},
	} {
		if p.val != strings.TrimSpace(p.val) {
			return bad(p.key, p.val, "has surrounding spaces")
		}
		if p.val == "" || p.val == SimPin {
			continue
		}
		if prev, ok := seen[p.val]; ok {
			return bad(p.key, p.val, "is already used by "+prev+": a pin can serve one purpose")
		}
		seen[p.val] = p.key
	}
	return nil
}

// pull returns the gpio.Pull for the button line.
func (c Config) pull() gpio.Pull {
	switch c.Pull {
	case "down":
		return gpio.PullDown
	case "none":
		return gpio.Float
	}
	return gpio.PullUp
}

// pressed returns the level that means "pressed" (for normally-closed
// wiring: "line open", which a cut wire also gives).
func (c Config) pressed() gpio.Level {
	switch strings.ToLower(c.PressedLevel) {
	case "low":
		return gpio.Low
	case "high":
		return gpio.High
	}
	// The idle level the pull gives an open line.
	open := gpio.High
	if c.Pull == "down" {
		open = gpio.Low
	}
	if c.Wiring == NormallyClosed {
		return open
	}
	return !open
}
