package drill

import "context"

func runButton(ctx context.Context, o *Options, seed int64, dir string) (round, error)      { return round{}, nil }
func runBadInput(ctx context.Context, o *Options, seed int64, dir string) (round, error)    { return round{}, nil }
