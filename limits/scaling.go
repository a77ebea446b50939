// scaling.go: the seed's vertical scaling as a plan. An account starts at
// one unit (scaling_unit contracts, 5 by default) and holds one more unit
// for each tier of net profit over its initial balance it has reached, up
// to 10 units; max position follows its tier. Units are earned at the
// session's end (on the closing balance) and lost at once when equity falls
// back below the tier that gave them.

package limits

import "fmt"

// ScalingState is a ScalingMonitor's state for the desk's snapshots.
type ScalingState struct {
	InitialCents int64 `json:"initial_cents"`
	Units        int64 `json:"units"`
}

// ScalingMonitor is one account's tier. Not safe for concurrent use.
type ScalingMonitor struct {
	unit    int64
	tiers   []int64 // net profit in cents for units 2, 3, …
	initial int64
	units   int64
}

// NewScalingMonitor starts an account with initialCents at one unit; nil, nil
// when cfg has no scaling_tiers.
func NewScalingMonitor(cfg Config, initialCents int64) (*ScalingMonitor, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validateRules(); err != nil {
		return nil, err
	}
	if len(cfg.ScalingTiers) == 0 {
		return nil, nil
	}
	if initialCents <= 0 {
		return nil, fmt.Errorf("limits: scaling: initial balance %d cents: want > 0", initialCents)
	}
	p := &ScalingMonitor{unit: cfg.ScalingUnit, initial: initialCents, units: 1}
	for _, t := range cfg.ScalingTiers {
		p.tiers = append(p.tiers, cents(t))
	}
	return p, nil
}

// unitsFor is 1 + the number of tiers net profit has reached.
func (p *ScalingMonitor) unitsFor(balanceCents int64) int64 {
	net, u := balanceCents-p.initial, int64(1)
	for _, t := range p.tiers {
		if net >= t {
			u++
		}
	}
	return u
}

// Units is the account's tier, in units.
func (p *ScalingMonitor) Units() int64 { return p.units }

// MaxPosition is the tier's position limit in contracts.
func (p *ScalingMonitor) MaxPosition() int64 { return p.units * p.unit }

// UnitQty is the contracts per unit.
func (p *ScalingMonitor) UnitQty() int64 { return p.unit }

// Mark loses units at once when equity falls below the tier that gave them
// (never earns any: that waits for the session's end). It returns the new
// units when they changed.
func (p *ScalingMonitor) Mark(equityCents int64) (int64, bool) {
	if u := p.unitsFor(equityCents); u < p.units {
		p.units = u
		return u, true
	}
	return p.units, false
}

// SessionEnd sets the tier from the closing balance (up or down) and
// returns the new units when they changed.
func (p *ScalingMonitor) SessionEnd(balanceCents int64) (int64, bool) {
	u := p.unitsFor(balanceCents)
	if u == p.units {
		return u, false
	}
	p.units = u
	return u, true
}

// State returns the plan's state for a snapshot.
func (p *ScalingMonitor) State() ScalingState {
	return ScalingState{InitialCents: p.initial, Units: p.units}
}

// RestoreState puts the plan back in st (clamped to the configured tiers).
func (p *ScalingMonitor) RestoreState(st ScalingState) error {
	if st.InitialCents <= 0 || st.Units < 1 {
		return fmt.Errorf("limits: restore scaling: initial %d cents, %d units: out of range", st.InitialCents, st.Units)
	}
	p.initial, p.units = st.InitialCents, min(st.Units, int64(len(p.tiers))+1)
	return nil
}
