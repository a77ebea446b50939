// cmd_venue.go: `deskguard venue`, the local exchange emulator speaking the
// Tradovate protocol on loopback, replaying a data file or a synthetic
// session into the matching engine and the market-data stream. By default
// it serves the real protocol's unfriendly parts a client must survive in
// normal operation (venue.Realistic); --faults chooses. With --protocol
// rithmic it speaks R|Protocol instead (rithmic_wiring.go), and --rms,
// --rms-late and --rms-refuse set its RMS (broker/venue/rithmic rms.go).

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

func cmdVenue(e *env) int {
	fs := flag.NewFlagSet("venue", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	listen := fs.String("listen", "127.0.0.1:8790", "address to serve on (loopback)")
	data := fs.String("data", "", "data file to replay (DBN, Lean zip, CSV ticks)")
	symbol := fs.String("symbol", "", "contract in the data file (Lean month, DBN instrument)")
	seed := fs.Int64("synth", 0, "replay a synthetic session with this seed (instead of --data)")
	regime := fs.String("regime", "mixed", "synthetic regime: trend, range or mixed")
	pace := fs.Float64("pace", 60, "replay speed × real time; 0 = as fast as possible")
	accounts := fs.String("accounts", "A,B,C", "comma-separated account names")
	user := fs.String("user", "demo", "the demo user name")
	passEnv := fs.String("password-env", "VENUE_PASSWORD", "environment variable with the demo password (default password \"demo\" when unset)")
	contract := fs.String("contract", "MESZ5", "the contract symbol clients trade")
	wait := fs.Bool("wait-for-chart", false, "start the replay at the first tick-chart (Rithmic: market data) subscription (a desk connecting after the venue starts sees the whole session)")
	protocol := fs.String("protocol", "tradovate", "the protocol served: tradovate (REST + WebSocket) or rithmic (R|Protocol)")
	faults := fs.String("faults", "realistic", "Tradovate: the real protocol's behaviours to serve: realistic, none, or a comma list of list-cap=N, history-cap=N, late-commands, empty-clordid, shuffle-reports, shuffle-ticks, close-frames, no-autoliq")
	carried := fs.String("carried", "", "Tradovate: positions carried from an earlier trade date: ACCOUNT=QTY@PRICE,... (e.g. A=2@5000.25)")
	record := fs.String("record", "", "write every order placement the venue receives (client order id, account, what became of it) to this new file as JSON lines (tradovate)")
	rmsSpec := fs.String("rms", "", "Rithmic: loss limits at the venue's RMS (the firm's side; a client cannot set them): ACCOUNT=LOSS[:refuse],... — at a day loss of LOSS the RMS liquidates the account and refuses its orders (:refuse: refuses them only), e.g. A=500,C=300:refuse")
	rmsLate := fs.Duration("rms-late", 0, "Rithmic: deliver every RMS update (356) this long after the change it reports")
	rmsRefuse := fs.Int("rms-refuse", 0, "Rithmic: answer the first N RMS requests (304 info, 3508 update subscription) with an error, as a gateway without RMS permissions does")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: deskguard venue (--data FILE | --synth SEED) [--protocol tradovate|rithmic] [flags]")
		fs.PrintDefaults()
	}
	if !parseFlags(e, fs) {
		return 2
	}
	vf, err := parseFaults(*faults)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: --faults: %v\n", err)
		return 2
	}
	rms, err := parseRMS(*rmsSpec)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: --rms: %v\n", err)
		return 2
	}
	if *rmsLate < 0 || *rmsRefuse < 0 {
		fmt.Fprintln(e.stderr, "deskguard venue: --rms-late and --rms-refuse cannot be negative")
		return 2
	}
	rms.late, rms.refuse = *rmsLate, *rmsRefuse
	carry, err := parseCarried(*carried)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: --carried: %v\n", err)
		return 2
	}
	if (*data == "") == (*seed == 0) {
		fmt.Fprintln(e.stderr, "deskguard venue: give exactly one of --data FILE or --synth SEED")
		return 2
	}
	var feed market.TradeReader
	if *data != "" {
		f, err := market.Open(*data, market.OpenOptions{Symbol: *symbol})
		if err != nil {
			fmt.Fprintf(e.stderr, "deskguard venue: %v\n", err)
			return 2
		}
		defer f.Close()
		feed = f
	} else {
		r, err := synth.NewReader(synth.Options{Seed: *seed, Regime: synth.Regime(*regime)})
		if err != nil {
			fmt.Fprintf(e.stderr, "deskguard venue: %v\n", err)
			return 2
		}
		feed = r
	}
	// A data file that fails mid-replay (truncated, corrupt) stops the
	// trades; the venue keeps serving its orders. Say so on stdout, where
	// the desk that started this venue as its child reads it
	// (startVenueChild: the data link goes down on the desk, issue 25.7).
	feed = &feedFailNotice{r: feed, w: e.stdout}
	var accts []string
	for _, a := range strings.Split(*accounts, ",") {
		if a = strings.TrimSpace(a); a != "" {
			accts = append(accts, a)
		}
	}
	pw := os.Getenv(*passEnv)
	if pw == "" {
		pw = "demo"
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	switch *protocol {
	case "tradovate":
		if rms.set() {
			fmt.Fprintln(e.stderr, "deskguard venue: --rms, --rms-late and --rms-refuse are served with --protocol rithmic only")
			return 2
		}
	case "rithmic":
		if *record != "" {
			fmt.Fprintln(e.stderr, "deskguard venue: --record is served with --protocol tradovate only")
			return 2
		}
		return serveRithmicVenue(e, *listen, accts, *user, pw, *contract, *pace, *wait, feed, rms, log)
	default:
		fmt.Fprintf(e.stderr, "deskguard venue: --protocol %q: want tradovate or rithmic\n", *protocol)
		return 2
	}
	v, err := venue.New(venue.Config{Accounts: accts, User: *user, Password: pw, Symbol: *contract, Pace: *pace, WaitForChart: *wait,
		Faults: vf, Carried: carry}, feed, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: %v\n", err)
		return 2
	}
	if *record != "" {
		// A new file only: --record never overwrites one.
		f, err := os.OpenFile(*record, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintf(e.stderr, "deskguard venue: --record: %v\n", err)
			return 2
		}
		defer f.Close()
		v.RecordTo(f)
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: --listen %q: %v\n", *listen, err)
		return 2
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(e.stderr, "deskguard venue: refusing to listen on %s: loopback only\n", host)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- v.Serve(ctx, ln) }()
	<-v.Ready()
	fmt.Fprintf(e.stdout, "venue: %s\n", v.URL())
	fmt.Fprintf(e.stdout, "user websocket: %s\nmd websocket: %s\n", v.WSURL(), v.MDURL())
	fmt.Fprintf(e.stdout, "accounts: %s  contract: %s  pace: %gx  faults: %s\n", strings.Join(accts, ","), *contract, *pace, *faults)
	fmt.Fprintf(e.stdout, "connect with [broker.tradovate] base_url = %q, md_url = %q, user = %q, and TRADOVATE_PASSWORD set to the demo password\n",
		v.URL(), v.MDURL(), *user)
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(e.stderr, "deskguard venue: %v\n", err)
		return 1
	}
	return 0
}

// parseFaults reads --faults.
func parseFaults(s string) (venue.Faults, error) {
	switch s {
	case "realistic":
		return venue.Realistic(), nil
	case "none", "":
		return venue.Faults{}, nil
	}
	var f venue.Faults
	for _, item := range strings.Split(s, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
		num := func() (int, error) {
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("%s=%q: want a number", k, val)
			}
			return n, nil
		}
		var err error
		switch k {
		case "realistic":
			f = venue.Realistic()
		case "list-cap":
			f.ListCap, err = num()
		case "history-cap":
			f.HistoryCap, err = num()
		case "late-commands":
			f.LateCommands = true
		case "empty-clordid":
			f.EmptyClOrdID = true
		case "shuffle-reports":
			f.ShuffleReports = true
		case "shuffle-ticks":
			f.ShuffleTicks = true
		case "close-frames":
			f.CloseFrames = true
		case "no-autoliq":
			f.NoAutoLiqRisk = true
		default:
			return f, fmt.Errorf("unknown fault %q", k)
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// parseCarried reads --carried ACCOUNT=QTY@PRICE,...
func parseCarried(s string) (map[string]venue.Carry, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]venue.Carry{}
	for _, item := range strings.Split(s, ",") {
		a, rest, ok := strings.Cut(strings.TrimSpace(item), "=")
		q, p, ok2 := strings.Cut(rest, "@")
		if !ok || !ok2 || a == "" {
			return nil, fmt.Errorf("%q: want ACCOUNT=QTY@PRICE", item)
		}
		qty, err := strconv.ParseInt(q, 10, 64)
		if err != nil || qty == 0 {
			return nil, fmt.Errorf("%q: quantity %q", item, q)
		}
		px, err := market.ParsePrice(p)
		if err != nil {
			return nil, fmt.Errorf("%q: price: %v", item, err)
		}
		out[a] = venue.Carry{Qty: qty, Price: px}
	}
	return out, nil
}

// feedFailLine starts the line a venue prints when its data fails.
const feedFailLine = "venue: feed failed: "

// feedFailNotice prints feedFailLine and the error the first time the
// replayed data fails (not at its end).
type feedFailNotice struct {
	r    market.TradeReader
	w    io.Writer
	once sync.Once
}

func (f *feedFailNotice) Next() (market.Trade, error) {
	t, err := f.r.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		f.once.Do(func() { fmt.Fprintf(f.w, "%s%s\n", feedFailLine, strings.ReplaceAll(err.Error(), "\n", " ")) })
	}
	return t, err
}

// rmsFlags is --rms, --rms-late and --rms-refuse: the Rithmic venue's RMS.
type rmsFlags struct {
	limits []rmsLimit    // SetRMS, in the order given
	late   time.Duration // LateRMS
	refuse int           // RefuseRMS
}

// rmsLimit is one --rms item.
type rmsLimit struct {
	account string
	loss    decimal.Decimal // > 0, in the account's currency
	autoLiq bool            // false with :refuse
}

func (r rmsFlags) set() bool { return len(r.limits) > 0 || r.late != 0 || r.refuse != 0 }

// parseRMS reads --rms ACCOUNT=LOSS[:refuse],... (money as a decimal: the
// venue's API takes the float the protocol's field is, converted once here).
func parseRMS(s string) (rmsFlags, error) {
	var out rmsFlags
	if s == "" {
		return out, nil
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		a, rest, ok := strings.Cut(item, "=")
		a = strings.TrimSpace(a)
		if !ok || a == "" {
			return out, fmt.Errorf("%q: want ACCOUNT=LOSS or ACCOUNT=LOSS:refuse", item)
		}
		if seen[a] {
			return out, fmt.Errorf("%q: account %s given twice", item, a)
		}
		seen[a] = true
		amount, mode, hasMode := strings.Cut(rest, ":")
		if hasMode && mode != "refuse" {
			return out, fmt.Errorf("%q: mode %q: want :refuse or none (liquidate)", item, mode)
		}
		loss, err := decimal.NewFromString(strings.TrimSpace(amount))
		if err != nil || !loss.IsPositive() {
			return out, fmt.Errorf("%q: loss %q: want a positive amount", item, amount)
		}
		out.limits = append(out.limits, rmsLimit{account: a, loss: loss, autoLiq: !hasMode})
	}
	return out, nil
}
