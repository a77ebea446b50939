// config_test.go: [hw] decoding from TOML, defaults, validation errors
// naming the key, the pressed level per wiring and pull, and a fuzz test.
package hw

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"periph.io/x/conn/v3/gpio"
)

func asConfigError(err error, ce **ConfigError) bool { return errors.As(err, ce) }

func TestConfigFromTOML(t *testing.T) {
	const doc = `
button_pin = "GPIO17"
wiring = "normally_closed"
pull = "up"
debounce = "25ms"
wire_cut_hold = "750ms"
green_pin = "GPIO22"
red_pin = "GPIO27"
buzzer_pin = "GPIO23"
blink_period = "400ms"
buzzer_pulse = "1s"
`
	var c Config
	md, err := toml.Decode(doc, &c)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys %v", u)
	}
	want := Config{ButtonPin: "GPIO17", Wiring: NormallyClosed, Pull: "up", Debounce: 25 * ms, WireCutHold: 750 * ms,
		GreenPin: "GPIO22", RedPin: "GPIO27", BuzzerPin: "GPIO23", BlinkPeriod: 400 * ms, BuzzerPulse: time.Second}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	if err := c.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{ButtonPin: SimPin}.WithDefaults()
	if c.Wiring != NormallyOpen || c.Pull != "up" || c.Debounce != 20*ms || c.WireCutHold != 500*ms ||
		c.Poll != 200*ms || c.StallAfter != 2*time.Second || c.BlinkPeriod != 500*ms || c.BuzzerPulse != 300*ms {
		t.Fatalf("%+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		key  string
		msg  string
	}{
		{"wiring", Config{Wiring: "NO"}, "wiring", `"normally_open" or "normally_closed"`},
		{"pull", Config{Pull: "upp"}, "pull", `"up", "down" or "none"`},
		{"pressed level", Config{PressedLevel: "1"}, "pressed_level", `"low" or "high"`},
		{"pull none needs a level", Config{ButtonPin: "GPIO17", Pull: "none"}, "pressed_level", "is required"},
		{"debounce too short", Config{Debounce: time.Microsecond}, "debounce", "between 1ms and 1s"},
		{"debounce too long", Config{Debounce: 2 * time.Second}, "debounce", "between 1ms and 1s"},
		{"wire cut hold <= debounce", Config{Wiring: NormallyClosed, WireCutHold: 20 * ms}, "wire_cut_hold", "longer than debounce"},
		{"wire cut hold huge", Config{WireCutHold: time.Hour}, "wire_cut_hold", "at most"},
		{"poll", Config{Poll: time.Minute}, "poll", "between"},
		{"stall", Config{Poll: 200 * ms, StallAfter: 100 * ms}, "stall_after", "longer than poll"},
		{"blink", Config{BlinkPeriod: ms}, "blink_period", "between"},
		{"buzzer", Config{BuzzerPulse: time.Minute}, "buzzer_pulse", "between"},
		{"same pin twice", Config{ButtonPin: "GPIO17", RedPin: "GPIO17"}, "red_pin", "already used by button_pin"},
		{"spaces", Config{GreenPin: " GPIO22"}, "green_pin", "spaces"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.WithDefaults().Validate()
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if ce.Key != tc.key || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "hw: "+tc.key+" = ") {
				t.Fatalf("err = %q, want key %s and %q", err, tc.key, tc.msg)
			}
		})
	}
	ok := []Config{
		{},
		{ButtonPin: SimPin, GreenPin: SimPin, RedPin: SimPin, BuzzerPin: SimPin},
		{ButtonPin: "GPIO17", Pull: "none", PressedLevel: "low"},
		{Wiring: NormallyClosed, WireCutHold: -1},
	}
	for _, c := range ok {
		if err := c.WithDefaults().Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestPressedLevel(t *testing.T) {
	tests := []struct {
		wiring, pull, level string
		want                gpio.Level
	}{
		{NormallyOpen, "up", "", gpio.Low},
		{NormallyOpen, "down", "", gpio.High},
		{NormallyClosed, "up", "", gpio.High},
		{NormallyClosed, "down", "", gpio.Low},
		{NormallyOpen, "none", "high", gpio.High},
		{NormallyClosed, "up", "low", gpio.Low},
	}
	for _, tc := range tests {
		c := Config{Wiring: tc.wiring, Pull: tc.pull, PressedLevel: tc.level}.WithDefaults()
		if got := c.pressed(); got != tc.want {
			t.Errorf("%s/%s/%q: pressed = %v, want %v", tc.wiring, tc.pull, tc.level, got, tc.want)
		}
	}
}

func FuzzConfigTOML(f *testing.F) {
	f.Add(`button_pin = "GPIO17"` + "\n" + `debounce = "20ms"`)
	f.Add(`wiring = "normally_closed"` + "\n" + `wire_cut_hold = "1s"`)
	f.Add(`pull = "none"` + "\n" + `pressed_level = "HIGH"`)
	f.Add(`debounce = -5`)
	f.Fuzz(func(t *testing.T, doc string) {
		var c Config
		if _, err := toml.Decode(doc, &c); err != nil {
			return
		}
		c = c.WithDefaults()
		err := c.Validate()
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key == "" {
				t.Fatalf("not a ConfigError with a key: %v", err)
			}
			return
		}
		// A valid config has sane timings and a definite pressed level.
		if c.Debounce < ms || c.Poll < ms || c.BlinkPeriod/2 <= 0 {
			t.Fatalf("valid config with bad timings: %+v", c)
		}
		_ = c.pressed()
		_ = c.pull()
	})
}
