package drill

import "context"

func runJournalFull(ctx context.Context, o *Options, seed int64, dir string) (round, error) { return round{}, nil }
func runSlack(ctx context.Context, o *Options, seed int64, dir string) (round, error)       { return round{}, nil }
func runButton(ctx context.Context, o *Options, seed int64, dir string) (round, error)      { return round{}, nil }
func runEdge(ctx context.Context, o *Options, seed int64, dir string) (round, error)        { return round{}, nil }
func runBadInput(ctx context.Context, o *Options, seed int64, dir string) (round, error)    { return round{}, nil }
