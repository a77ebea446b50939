package main

// cmd_data.go: `deskguard data summary FILE [--json] [--symbol S]` (what a
// market data file holds) and `deskguard data synth --seed N --regime R
// --out FILE` (a synthetic session as CSV ticks).

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/market/synth"
)

func cmdData(e *env) int {
	const usage = "usage: deskguard data summary FILE [--json] [--symbol S]\n       deskguard data synth --seed N --regime trend|range|mixed --out FILE"
	if len(e.args) == 0 {
		fmt.Fprintln(e.stderr, usage)
		return 2
	}
	if isHelp(e.args[0]) {
		fmt.Fprintln(e.stdout, usage)
		return 0
	}
	sub, rest := e.args[0], e.args[1:]
	switch sub {
	case "summary":
		return dataSummary(e, rest)
	case "synth":
		return dataSynth(e, rest)
	}
	fmt.Fprintf(e.stderr, "deskguard data: unknown subcommand %q (want summary or synth)\n%s\n", sub, usage)
	return 2
}

func dataSummary(e *env, args []string) int {
	fs := flag.NewFlagSet("data summary", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	symbol := fs.String("symbol", "", `contract to read: a month in a Lean zip ("ESZ3"), an instrument in a DBN file; "" = front month / the only one`)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: deskguard data summary FILE [--json] [--symbol S]")
		fs.PrintDefaults()
	}
	// Accept the file before or after the flags.
	var files []string
	for len(args) > 0 {
		if !parseArgs(e, fs, args) {
			return 2
		}
		args = fs.Args()
		if len(args) > 0 {
			files = append(files, args[0])
			args = args[1:]
		}
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	s, err := market.SummarizeFile(files[0], market.OpenOptions{Symbol: *symbol})
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard data summary:", err)
		var pe *market.ParseError
		if errors.As(err, &pe) {
			return 1
		}
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			fmt.Fprintln(e.stderr, "deskguard data summary:", err)
			return 1
		}
		return 0
	}
	writeSummaryText(e.stdout, s)
	return 0
}

func writeSummaryText(w io.Writer, s market.Summary) {
	str := func(p *string) string {
		if p == nil {
			return "-"
		}
		return *p
	}
	num := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatInt(*p, 10)
	}
	px := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', 2, 64)
	}
	fmt.Fprintf(w, "file        %s\n", s.Path)
	fmt.Fprintf(w, "format      %s (%s)\n", s.Format, s.Kind)
	fmt.Fprintf(w, "symbol      %s\n", str(s.Symbol))
	fmt.Fprintf(w, "records     %d\n", s.Records)
	if s.Kind == "bars" {
		fmt.Fprintf(w, "bars        %s (one-minute)\n", num(s.Bars))
	} else {
		fmt.Fprintf(w, "trades      %s\n", num(s.Trades))
	}
	fmt.Fprintf(w, "volume      %d\n", s.Volume)
	fmt.Fprintf(w, "first       %s\n", str(s.First))
	fmt.Fprintf(w, "last        %s\n", str(s.Last))
	fmt.Fprintf(w, "OHLC        %s %s %s %s\n", px(s.Open), px(s.High), px(s.Low), px(s.Close))
	vw := "RTH VWAP  "
	if s.Kind == "bars" {
		vw = "RTH VWAP* "
	}
	fmt.Fprintf(w, "%s  %s\n", vw, px(s.RTHVWAP))
	fmt.Fprintf(w, "cum delta   %s (RTH %s); buy %s, sell %s\n", num(s.CumDelta), num(s.RTHCumDelta), num(s.BuyVolume), num(s.SellVolume))
	switch {
	case s.Derived:
		fmt.Fprintln(w, "aggressor   tick-rule: the file has bars, no trades; deltas come from DERIVED trades (each bar expanded open → nearer extreme → farther extreme → close) with sides by the tick rule")
		fmt.Fprintln(w, "            * VWAP from the bars' typical price (H+L+C)/3")
	case s.Aggressor == "tick-rule":
		fmt.Fprintf(w, "aggressor   tick-rule: the file has no aggressor side; all %d sides are inferred (uptick buy, downtick sell)\n", s.Inferred)
	case s.Inferred > 0:
		fmt.Fprintf(w, "aggressor   data (%d trade(s) without a side got one from the tick rule)\n", s.Inferred)
	default:
		fmt.Fprintln(w, "aggressor   data")
	}
	if s.Unknown > 0 {
		fmt.Fprintf(w, "            %d trade(s) have no side at all (no earlier price to compare) and count in neither buy nor sell\n", s.Unknown)
	}
}

func dataSynth(e *env, args []string) int {
	fs := flag.NewFlagSet("data synth", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	seed := fs.Int64("seed", 1, "generator seed (same seed, same bytes)")
	regime := fs.String("regime", "mixed", "kind of day: trend, range or mixed")
	out := fs.String("out", "", `output CSV ticks file ("-" = stdout)`)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: deskguard data synth --seed N --regime trend|range|mixed --out FILE")
		fs.PrintDefaults()
	}
	if !parseArgs(e, fs, args) {
		return 2
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	opt := synth.Options{Seed: *seed, Regime: synth.Regime(*regime)}
	if *out == "-" {
		if err := synth.WriteCSV(e.stdout, opt); err != nil {
			fmt.Fprintln(e.stderr, "deskguard data synth:", err)
			return synthCode(err)
		}
		return 0
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard data synth:", err)
		return 1
	}
	if err := synth.WriteCSV(f, opt); err != nil {
		f.Close()
		os.Remove(*out)
		fmt.Fprintln(e.stderr, "deskguard data synth:", err)
		return synthCode(err)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(e.stderr, "deskguard data synth:", err)
		return 1
	}
	return 0
}

func synthCode(err error) int {
	if errors.Is(err, synth.ErrOptions) {
		return 2
	}
	return 1
}
