// device.go: builds the button and lights from the [hw] config, resolving
// real pins through periph.io's character-device GPIO driver, or "sim".
package hw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	_ "periph.io/x/host/v3/gpioioctl" // the only GPIO driver: Linux GPIO character device, no cgo
)

// ErrNotSimulated is returned by Device.Click when the button is real.
var ErrNotSimulated = errors.New("hw: the panic button is not simulated")

// Resolver finds a pin by name ("GPIO17", "17", "P1_11").
type Resolver func(name string) (gpio.PinIO, error)

// Options are the device's collaborators.
type Options struct {
	Clock    clockwork.Clock           // nil = real clock
	Log      *slog.Logger              // nil = discard
	OnHealth func(ok bool, why string) // button health changes; must not block
	Resolve  Resolver                  // nil = periph.io host driver (driverreg.Init + gpioreg.ByName)
}

// Device is the desk's hardware: the button (nil when button_pin is
// empty), the simulated button (non-nil when button_pin = "sim") and the
// lights (always present; absent pins are skipped).
type Device struct {
	Button *Button
	Sim    *SimButton
	Lights *Lights
	// SimLights holds the simulated outputs by key ("green_pin", ...).
	SimLights map[string]*SimOut
}

// Open validates cfg and builds the device. Real pins initialize the
// periph.io host driver on first use; a missing pin is an error naming
// the config key.
func Open(cfg Config, desk Desk, opt Options) (*Device, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opt.Clock == nil {
		opt.Clock = clockwork.NewRealClock()
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Resolve == nil {
		opt.Resolve = HostPin
	}
	d := &Device{SimLights: map[string]*SimOut{}}
	output := func(key, name string) (gpio.PinOut, error) {
		switch name {
		case "":
			return nil, nil
		case SimPin:
			o := NewSimOut(key)
			d.SimLights[key] = o
			return o, nil
		}
		p, err := opt.Resolve(name)
		if err != nil {
			return nil, &ConfigError{Key: key, Value: name, Why: err.Error()}
		}
		return p, nil
	}
	green, err := output("green_pin", cfg.GreenPin)
	if err != nil {
		return nil, err
	}
	red, err := output("red_pin", cfg.RedPin)
	if err != nil {
		return nil, err
	}
	buzzer, err := output("buzzer_pin", cfg.BuzzerPin)
	if err != nil {
		return nil, err
	}
	d.Lights = NewLights(green, red, buzzer, cfg, LightsOptions{Clock: opt.Clock, Log: opt.Log})

	var in gpio.PinIn
	switch cfg.ButtonPin {
	case "":
		return d, nil
	case SimPin:
		d.Sim = NewSimButton(cfg, opt.Clock)
		in = d.Sim.Pin()
	default:
		p, err := opt.Resolve(cfg.ButtonPin)
		if err != nil {
			return nil, &ConfigError{Key: "button_pin", Value: cfg.ButtonPin, Why: err.Error()}
		}
		in = p
	}
	d.Button, err = NewButton(in, cfg.ButtonPin, desk, cfg, ButtonOptions{
		Clock: opt.Clock, Log: opt.Log, OnHealth: opt.OnHealth, DeskState: d.Lights.DeskState,
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Run runs the button watcher and the lights until ctx ends.
func (d *Device) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	var berr error
	if d.Button != nil {
		wg.Add(1)
		go func() { defer wg.Done(); berr = d.Button.Run(ctx) }()
	}
	lerr := d.Lights.Run(ctx)
	wg.Wait()
	return errors.Join(berr, lerr)
}

// Click clicks the simulated button (hold <= 0: its default hold).
func (d *Device) Click(hold time.Duration) error {
	if d.Sim == nil {
		return ErrNotSimulated
	}
	d.Sim.Click(hold)
	return nil
}

// HostPin resolves a real pin through periph.io: it initializes the
// registered drivers (only gpioioctl is linked in) and looks the name up.
func HostPin(name string) (gpio.PinIO, error) {
	st, err := driverreg.Init()
	if err != nil {
		return nil, fmt.Errorf("periph.io driver init: %w", err)
	}
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	why := "no such GPIO pin"
	for _, f := range st.Failed {
		why += fmt.Sprintf("; driver %s failed: %v", f.D, f.Err)
	}
	for _, s := range st.Skipped {
		why += fmt.Sprintf("; driver %s skipped: %v", s.D, s.Err)
	}
	if len(st.Loaded) == 0 {
		why += " (no GPIO driver loaded: is this a board with /dev/gpiochip*? use \"sim\" for development)"
	}
	return nil, errors.New(why)
}
