package main

import (
	"fmt"

	"github.com/deskguard/deskguard/config"
)

// cmdConfig prints the commented example configuration, or checks a file.
func cmdConfig(e *env) int {
	if len(e.args) == 0 {
		fmt.Fprintln(e.stderr, "usage: deskguard config example | deskguard config check FILE")
		return 2
	}
	switch e.args[0] {
	case "example":
		fmt.Fprint(e.stdout, config.Example)
		return 0
	case "check":
		if len(e.args) != 2 {
			fmt.Fprintln(e.stderr, "usage: deskguard config check FILE")
			return 2
		}
		// What run checks before it starts (checkConfig), every problem at once.
		c, _, err := loadChecked(e.args[1], nil, false)
		if err != nil {
			fmt.Fprintln(e.stderr, err)
			return 1
		}
		fmt.Fprintf(e.stdout, "%s: ok (%d accounts)\n", e.args[1], len(c.Accounts))
		return 0
	}
	fmt.Fprintf(e.stderr, "deskguard config: unknown subcommand %q\n", e.args[0])
	return 2
}
