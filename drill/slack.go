package drill

// slack.go: Slack's API down (500), rate limiting every call (429 with
// Retry-After) or hanging, while kills happen: the kill path must not wait
// on Slack, and every kill must still reach every account.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/deskguard/deskguard/alerts"
	"github.com/deskguard/deskguard/market"
)

// killBudget bounds trigger → every liquidate request returned (journal
// fsync excluded) on a loaded shared machine; DESIGN asks for 2 ms.
const killBudget = 100 * time.Millisecond

var slackModes = []string{"500", "429", "hang"}

func fakeSlack(mode string) (*httptest.Server, func()) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode {
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
		case "429":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	return srv, func() { close(hang); srv.Close() }
}

func runSlack(ctx context.Context, o *Options, seed int64, dir string) (round, error) {
	var rd round
	ts, err := sessionTrades(seed, o.Scale)
	if err != nil {
		return rd, err
	}
	body, tail := split(ts)
	rng := newRand(seed)
	mode := modeOf(seed, slackModes)
	rd.mode = mode
	srv, stop := fakeSlack(mode)
	defer stop()
	nctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := alerts.New(alerts.Config{BotToken: "xoxb-drill", Channel: "C0DRILL", APIURL: srv.URL + "/", PostTimeout: time.Minute,
		BackoffBase: 10 * time.Millisecond, CoalesceWindow: -1}, nil, o.Log, nil)
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(nctx) }()
	defer func() { cancel(); <-done }()

	r, err := newRig(ctx, rigOpt{Dir: dir, Log: o.Log, Start: time.Unix(0, ts[0].Time), Alerts: n})
	if err != nil {
		return rd, err
	}
	c := newChecker(r)
	r.allIn = &allIn{at: len(body) / 12}
	ch := &chaos{rng: newRand(seed + 1), every: 1 + len(body)/150}
	kills := map[int]bool{}
	for len(kills) < 3 {
		kills[len(body)/6+rng.IntN(len(body)*4/6)] = true
	}
	check := -1
	_, err = play(ctx, r, c, ch, body, func(i int, t market.Trade) error {
		if i == check {
			c.killReached(r, "kill during a Slack outage ("+mode+")")
			_ = r.d.Rearm(ctx, "drill", "after a drill kill")
		}
		if !kills[i] {
			return nil
		}
		rd.faults++
		rep, err := r.kill("", "drill_slack_"+mode)
		if err != nil {
			return err
		}
		if rep.SentNs > killBudget {
			c.violate(nil, "", "kill during Slack %s took %s to send (budget %s)", mode, rep.SentNs, killBudget)
		}
		check = i + tailTrades
		return nil
	})
	if err != nil {
		r.close()
		return rd, err
	}
	return rd, endRound(ctx, r, c, tail, &rd)
}
