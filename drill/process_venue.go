package drill

// process_venue.go: the venue a process round hosts, by protocol: the
// Tradovate venue (package broker/venue) or the R|Protocol venue (package
// broker/venue/rithmic), both on the same matching engine, with the desk's
// [broker] section for each and each protocol's faults.

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/broker/sim"
	venuepkg "github.com/deskguard/deskguard/broker/venue"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/market"
)

// hostedVenue is what a process round reads of its venue.
type hostedVenue interface {
	Trade(market.Trade)
	History() []broker.Event
	HistorySince(n int) []broker.Event
	Engine() *sim.Sim
	ChartSubscribed() <-chan struct{}
}

// hosted is a venue ready to serve, with the desk's config for it.
type hosted struct {
	v          hostedVenue
	serve      func(ctx context.Context, ln net.Listener) error
	ready      <-chan struct{}
	brokerTOML func() string
}

func hostVenue(protocol string, ids []string, log *slog.Logger) (hosted, error) {
	switch protocol {
	case "tradovate":
		v, err := venuepkg.New(venuepkg.Config{Accounts: ids, Password: venuePassword, Manual: true, Faults: venuepkg.Realistic()}, nil, log)
		if err != nil {
			return hosted{}, err
		}
		return hosted{v: v, serve: v.Serve, ready: v.Ready(), brokerTOML: func() string {
			return fmt.Sprintf("[broker]\nkind = \"tradovate\"\n\n[broker.tradovate]\nbase_url = %q\nmd_url = %q\nuser = \"demo\"\npassword_env = %q\n",
				v.URL(), v.MDURL(), venuePassEnv)
		}}, nil
	case "rithmic":
		// A 1 s heartbeat: a silent plant is found within 2 s.
		v, err := rvenue.New(rvenue.Config{Accounts: ids, Password: venuePassword, Manual: true, HeartbeatEvery: time.Second}, nil, log)
		if err != nil {
			return hosted{}, err
		}
		return hosted{v: v, serve: v.Serve, ready: v.Ready(), brokerTOML: func() string {
			return fmt.Sprintf("[broker]\nkind = \"rithmic\"\n\n[broker.rithmic]\nurl = %q\nsystem_name = %q\nuser = \"demo\"\npassword_env = %q\n",
				v.URL(), v.SystemName(), venuePassEnv)
		}}, nil
	}
	return hosted{}, fmt.Errorf("drill: unknown venue protocol %q", protocol)
}

// rithmicFaultKinds are the R|Protocol venue's faults, one drawn per
// injection.
var rithmicFaultKinds = []string{"drop-sockets", "forced-logout", "reject", "late-notifications", "plant-down", "drop-after-acting",
	"drop-before-acting", "restart"}

// protocolFault is the k-th fault of a round on a protocol's venue.
func protocolFault(protocol string, v hostedVenue, k, at int, rng *rand.Rand) fault {
	if rv, ok := v.(*rvenue.Venue); ok {
		return rithmicFault(rv, rithmicFaultKinds[k%len(rithmicFaultKinds)], at, rng)
	}
	return venueFault(v.(*venuepkg.Venue), venueFaultKinds[k%len(venueFaultKinds)], at, rng)
}

func rithmicFault(v *rvenue.Venue, kind string, at int, rng *rand.Rand) fault {
	f := fault{at: at, what: fmt.Sprintf("%s at trade %d", kind, at)}
	switch kind {
	case "drop-sockets":
		f.do = func(context.Context) (bool, error) { v.DropSockets(); return false, nil }
	case "forced-logout":
		p := []rvenueInfra{rvenue.Order, rvenue.Ticker, rvenue.PnL}[rng.IntN(3)]
		f.what = fmt.Sprintf("forced logout of the %s at trade %d", p, at)
		f.do = func(context.Context) (bool, error) { v.ForceLogout(p); return false, nil }
	case "reject":
		k := 1 + rng.IntN(3)
		f.do = func(context.Context) (bool, error) { v.RejectNext(k); return false, nil }
	case "late-notifications":
		d := time.Duration(20+rng.IntN(180)) * time.Millisecond
		f.what = fmt.Sprintf("351s %s late for 1 s at trade %d", d, at)
		f.do = func(ctx context.Context) (bool, error) {
			v.LateNotifications(d)
			err := sleepCtx(ctx, time.Second) // the fault's duration (fault injection)
			v.LateNotifications(0)
			return false, err
		}
	case "plant-down":
		p := []rvenueInfra{rvenue.Order, rvenue.Ticker, rvenue.PnL}[rng.IntN(3)]
		d := time.Duration(200+rng.IntN(800)) * time.Millisecond
		f.what = fmt.Sprintf("%s down for %s at trade %d", p, d, at)
		f.do = func(context.Context) (bool, error) { v.PlantDown(p, d); return false, nil }
	case "drop-after-acting":
		f.do = func(context.Context) (bool, error) { v.DropAfterActing(1); return false, nil }
	case "drop-before-acting":
		f.do = func(context.Context) (bool, error) { v.DropBeforeActing(1); return false, nil }
	case "restart":
		down := time.Duration(100+rng.IntN(700)) * time.Millisecond
		f.do = func(ctx context.Context) (bool, error) { return false, v.Bounce(ctx, down) }
	}
	return f
}

type rvenueInfra = rpb.InfraType

func runProcessCrashRithmic(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	return processCrash(ctx, o, seed, dir, "rithmic")
}

func runVenueFaultsRithmic(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	return venueFaults(ctx, o, seed, dir, "rithmic")
}
