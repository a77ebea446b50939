package main

import (
	"flag"
	"fmt"

	"github.com/deskguard/deskguard/supervisor"
)

// cmdFSM prints the desk and account state machines as Mermaid, drawn from
// the live definitions so the picture cannot drift from the code.
func cmdFSM(e *env) int {
	fs := flag.NewFlagSet("fsm", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: deskguard fsm (no flags): the desk and account state machines as Mermaid")
	}
	if !parseFlags(e, fs) {
		return 2
	}
	d, err := supervisor.DeskMermaid()
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard fsm:", err)
		return 1
	}
	a, err := supervisor.AccountMermaid()
	if err != nil {
		fmt.Fprintln(e.stderr, "deskguard fsm:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "%%%% desk\n%s\n%%%% account\n%s", d, a)
	return 0
}
