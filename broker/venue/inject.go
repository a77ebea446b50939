// This file is the named fault hook the fault drill draws from: each kind
// is one of the injected behaviours of the real protocol, done once.

package venue

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
)

// InjectedFaults are the kinds Inject knows, for a drill to draw from.
// They are the ones a desk must ride out without a desk-side change: each
// leaves the venue's books alone (no bust, no external order).
var InjectedFaults = []string{"socket-penalty", "rest-429", "silence", "close-frames", "no-order-id"}

// Inject does one fault of a kind of InjectedFaults (or of the older
// drill kinds: drop-sockets, rest-5xx, rest-5xx-after-acting, penalty,
// expire-tokens), with its size drawn from rng.
func (v *Venue) Inject(ctx context.Context, kind string, rng *rand.Rand) error {
	switch kind {
	case "socket-penalty": // the next sync or chart reply is a ticket
		v.PenalizeSocketNext(1+rng.IntN(2), 1, false)
	case "rest-429":
		v.Fail429Next(1 + rng.IntN(3))
	case "silence": // the open sockets go silent (half-open)
		v.SilenceSockets()
	case "close-frames":
		v.CloseWebSockets(1000, "session closed by the server")
	case "no-order-id": // the next placement is made but answered with no id
		v.NoOrderIDNext(1, true)
	case "drop-sockets":
		v.DropWebSockets()
	case "rest-5xx":
		v.FailNextREST(1+rng.IntN(3), []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[rng.IntN(3)])
	case "rest-5xx-after-acting":
		v.FailNextRESTAfter(1+rng.IntN(2), http.StatusInternalServerError)
	case "penalty":
		v.PenalizeNext(1+rng.IntN(2), 1)
	case "expire-tokens":
		v.ExpireTokens()
	default:
		return fmt.Errorf("venue: no fault %q", kind)
	}
	return ctx.Err()
}
