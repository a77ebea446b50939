package drill

// hostile.go: the hostile-requests scenario (being written).

import (
	"context"
	"errors"
)

func runHostile(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	return round{}, errors.New("hostile-requests: not written yet")
}
