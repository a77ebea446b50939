package drill

import "context"

func runBadInput(ctx context.Context, o *Options, seed int64, dir string) (round, error)    { return round{}, nil }
