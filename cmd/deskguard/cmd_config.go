package main

import (
	"flag"
	"fmt"

	"github.com/deskguard/deskguard/config"
)

const configUsage = "usage: deskguard config example | deskguard config check FILE\n" +
	"  example     print a commented example TOML: every key with its default\n" +
	"  check FILE  check FILE as `deskguard run --config FILE` would, reporting every problem"

// cmdConfig prints the commented example configuration, or checks a file.
func cmdConfig(e *env) int {
	if len(e.args) == 0 {
		fmt.Fprintln(e.stderr, configUsage)
		return 2
	}
	if isHelp(e.args[0]) {
		fmt.Fprintln(e.stdout, configUsage)
		return 0
	}
	switch e.args[0] {
	case "example":
		fmt.Fprint(e.stdout, config.Example)
		return 0
	case "check":
		fs := flag.NewFlagSet("config check", flag.ContinueOnError)
		fs.Usage = func() { fmt.Fprintln(fs.Output(), configUsage) }
		if !parseArgs(e, fs, e.args[1:]) {
			return 2
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(e.stderr, "usage: deskguard config check FILE")
			return 2
		}
		// What run checks before it starts (checkConfig), every problem at once.
		c, _, err := loadChecked(fs.Arg(0), nil, false)
		if err != nil {
			fmt.Fprintln(e.stderr, err)
			return 1
		}
		fmt.Fprintf(e.stdout, "%s: ok (%d accounts)\n", fs.Arg(0), len(c.Accounts))
		return 0
	}
	fmt.Fprintf(e.stderr, "deskguard config: unknown subcommand %q\n%s\n", e.args[0], configUsage)
	return 2
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}
