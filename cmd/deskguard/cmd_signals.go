package main

// cmd_signals.go: `deskguard signals`, one strategy engine over one session
// (a data file or a synthetic day), no gate and no venue, printing every
// intent with its time (in one zone, labelled: --zone, else --config's
// [desk] time_zone, else New York; JSON keeps UTC), price levels and
// reason.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/intent"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
	"github.com/deskguard/deskguard/strategies"
)

// signalsNote is printed with every run: without a venue nothing fills.
const signalsNote = "no venue: the engines see no fills, so every entry expires unfilled and no add-on is ever proposed"

type signalJSON struct {
	Time     string   `json:"time"`
	Strategy string   `json:"strategy"`
	Kind     string   `json:"kind"`
	Side     string   `json:"side"`
	Qty      int64    `json:"qty"`
	Entry    *float64 `json:"entry"`
	Limit    *float64 `json:"limit"`
	Stop     *float64 `json:"stop"`
	Target   *float64 `json:"target"`
	Reason   string   `json:"reason"`
}

type signalsJSON struct {
	Intents   []signalJSON `json:"intents"`
	Derived   bool         `json:"derived"`
	Trades    int64        `json:"trades"`
	RTHTrades int64        `json:"rth_trades"`
	Note      string       `json:"note"`
}

func cmdSignals(e *env) int {
	fs := flag.NewFlagSet("signals", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", "", "session data file (DBN, Lean minute zip or CSV ticks)")
	seed := fs.Int64("synth", 0, "use the synthetic session with this seed instead of --data")
	regime := fs.String("regime", "mixed", "synthetic day: trend, range or mixed")
	strategy := fs.String("strategy", "", "engine: orb, vwapmr, delta, or all")
	asJSON := fs.Bool("json", false, `print {"intents": [...], "derived": bool} as JSON (times UTC)`)
	zoneName := fs.String("zone", "", "IANA time zone the text shows times in (default: --config's [desk] time_zone, else "+config.DefaultTimeZone+")")
	configPath := fs.String("config", "", "desk config whose [desk] time_zone the text shows times in")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: deskguard signals (--data FILE | --synth SEED [--regime R]) --strategy orb|vwapmr|delta|all [--json] [--zone Z | --config F]")
		fs.PrintDefaults()
	}
	if !parseFlags(e, fs) {
		return 2
	}
	useSynth := false
	fs.Visit(func(f *flag.Flag) { useSynth = useSynth || f.Name == "synth" })
	if fs.NArg() != 0 || (*data == "") == !useSynth {
		fmt.Fprintln(e.stderr, "deskguard signals: give exactly one of --data FILE or --synth SEED")
		fs.Usage()
		return 2
	}
	engines, err := signalEngines(*strategy)
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard signals:", err)
		return 2
	}
	zone, err := displayZone(*zoneName, *configPath, "")
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard signals:", err)
		return 2
	}
	var src market.TradeReader
	var derived bool
	var what string
	if useSynth {
		r, err := synth.NewReader(synth.Options{Seed: *seed, Regime: synth.Regime(*regime)})
		if err != nil {
			fmt.Fprintln(e.stderr, "deskguard signals:", err)
			return 2
		}
		src, what = r, fmt.Sprintf("synthetic %s day, seed %d", *regime, *seed)
	} else {
		f, err := openSignalsData(*data)
		if err != nil {
			fmt.Fprintln(e.stderr, "deskguard signals:", err)
			return 2
		}
		defer f.Close()
		src, derived, what = f, f.derived, f.what
	}
	ins, n, err := runSignals(src, engines)
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard signals:", err)
		return 1
	}
	if *asJSON {
		return printSignalsJSON(e, ins, derived, n)
	}
	printSignalsText(e, ins, derived, n, what, zone)
	return 0
}

func signalEngines(name string) ([]strategies.Engine, error) {
	if name == "" {
		return nil, fmt.Errorf("--strategy is required: orb, vwapmr, delta or all")
	}
	return strategies.DefaultConfig().Engines(name)
}

// runSignals feeds every trade through one Runner (the code path the replay
// and the worker use) and returns copies of the intents and the trade count.
func runSignals(src market.TradeReader, engines []strategies.Engine) ([]intent.Intent, signalsCount, error) {
	r := strategies.NewRunner("signals", engines...)
	var out []intent.Intent
	var n int64
	for {
		t, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, signalsCount{n, r.RTHTrades()}, fmt.Errorf("reading trade %d: %w", n+1, err)
		}
		n++
		out = append(out, r.OnTrade(t)...)
	}
	out = append(out, r.Flush()...)
	return out, signalsCount{n, r.RTHTrades()}, nil
}

// signalsCount is how many trades were read and how many fell in RTH.
type signalsCount struct{ all, rth int64 }

func points(p market.Price) *float64 {
	if p == 0 {
		return nil
	}
	v := p.Points()
	return &v
}

func printSignalsJSON(e *env, ins []intent.Intent, derived bool, n signalsCount) int {
	doc := signalsJSON{Intents: make([]signalJSON, 0, len(ins)), Derived: derived, Trades: n.all, RTHTrades: n.rth, Note: signalsNote}
	for _, in := range ins {
		doc.Intents = append(doc.Intents, signalJSON{
			Time: time.Unix(0, in.Time).UTC().Format(time.RFC3339Nano), Strategy: in.Strategy, Kind: in.Kind.String(),
			Side: in.Side.String(), Qty: in.Qty, Entry: points(in.Entry), Limit: points(in.Limit),
			Stop: points(in.Stop), Target: points(in.Target), Reason: in.Reason,
		})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		fmt.Fprintln(e.stderr, "deskguard signals:", err)
		return 1
	}
	return 0
}

func printSignalsText(e *env, ins []intent.Intent, derived bool, n signalsCount, what string, zone *time.Location) {
	src := "aggressor sides from the data"
	if derived {
		src = "trades expanded from bars, aggressor sides by the tick rule"
	}
	fmt.Fprintf(e.stdout, "%s: %d trades, %d in regular trading hours 09:30-16:00 ET (%s); %d intents\n%s\n\n",
		what, n.all, n.rth, src, len(ins), signalsNote)
	if len(ins) == 0 {
		return
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	// One zone, labelled as the console labels it (abbreviation, name).
	fmt.Fprintf(tw, "TIME (%s)\tSTRATEGY\tKIND\tSIDE\tQTY\tTYPE\tENTRY\tLIMIT\tSTOP\tTARGET\tREASON\n", zoneLabel(zone, time.Unix(0, ins[0].Time)))
	dash := func(p market.Price) string {
		if p == 0 {
			return "-"
		}
		return p.String()
	}
	for _, in := range ins {
		t := time.Unix(0, in.Time)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			t.In(zone).Format("2006-01-02 15:04:05.000"), in.Strategy, in.Kind,
			in.Side, in.Qty, in.EntryType, dash(in.Entry), dash(in.Limit), dash(in.Stop), dash(in.Target),
			strings.ReplaceAll(in.Reason, "\t", " "))
	}
	tw.Flush()
}

// signalsData is an opened data file: its trades and what the summary says.
type signalsData struct {
	*market.Feed
	derived bool
	what    string
}

// openSignalsData opens a data file with market.Open (the format is
// detected from the content).
func openSignalsData(path string) (*signalsData, error) {
	f, err := market.Open(path, market.OpenOptions{})
	if err != nil {
		return nil, err
	}
	info := f.Info()
	what := fmt.Sprintf("%s (%s", path, info.Format)
	if info.Symbol != "" {
		what += ", " + info.Symbol
	}
	what += ")"
	return &signalsData{Feed: f, derived: info.Derived, what: what}, nil
}
