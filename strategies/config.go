// config.go: the strategies section of the desk's config as one value, and
// building engines by name from it.

package strategies

import (
	"errors"
	"fmt"
)

// Names are the engines this package builds, in Runner order.
var Names = [...]string{"orb", "vwapmr", "delta"}

// Config holds every engine's config; its TOML tables are [orb], [vwapmr]
// and [delta] under wherever the desk config puts it.
type Config struct {
	ORB    ORBConfig    `toml:"orb"`
	VWAPMR VWAPMRConfig `toml:"vwapmr"`
	Delta  DeltaConfig  `toml:"delta"`
}

// DefaultConfig returns DESIGN.md's defaults for every engine. Decode TOML
// over it so absent keys keep their defaults.
func DefaultConfig() Config {
	return Config{ORB: DefaultORBConfig(), VWAPMR: DefaultVWAPMRConfig(), Delta: DefaultDeltaConfig()}
}

// Validate checks every engine's config.
func (c Config) Validate() error {
	return errors.Join(c.ORB.Validate(), c.VWAPMR.Validate(), c.Delta.Validate())
}

// UnknownEngineError names an engine this package does not have.
type UnknownEngineError struct{ Name string }

func (e *UnknownEngineError) Error() string {
	return fmt.Sprintf("strategies: unknown engine %q (want orb, vwapmr or delta)", e.Name)
}

// Engines builds fresh engines by name ("orb", "vwapmr", "delta"; "all"
// for the three), validating their configs. Each call returns new engines:
// engines are stateful and belong to one Runner.
func (c Config) Engines(names ...string) ([]Engine, error) {
	var out []Engine
	for _, n := range names {
		if n == "all" {
			more, err := c.Engines(Names[:]...)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
			continue
		}
		var e Engine
		var err error
		switch n {
		case "orb":
			e, err = NewORB(c.ORB), c.ORB.Validate()
		case "vwapmr":
			e, err = NewVWAPMR(c.VWAPMR), c.VWAPMR.Validate()
		case "delta":
			e, err = NewDelta(c.Delta), c.Delta.Validate()
		default:
			return nil, &UnknownEngineError{n}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
