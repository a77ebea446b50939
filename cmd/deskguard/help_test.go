package main

// help_test.go: every command in the command table answers --help (and
// -h) with its usage and flags on stdout, exit 0, and refuses an unknown
// flag with exit 2 and its usage on stderr (issue 23).

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"
)

func TestEveryCommandHelpAndBadFlag(t *testing.T) {
	names := make([]string, 0, len(commands()))
	for n := range commands() {
		names = append(names, n)
	}
	sort.Strings(names)
	var cmds [][]string
	for _, n := range names {
		cmds = append(cmds, []string{n})
	}
	// And the subcommands.
	cmds = append(cmds, []string{"journal", "dump"}, []string{"journal", "verify"}, []string{"data", "summary"},
		[]string{"data", "synth"}, []string{"config", "check"})
	for _, c := range cmds {
		n := strings.Join(c, " ")
		for _, h := range []string{"--help", "-h"} {
			var out, errb bytes.Buffer
			code := dispatch(context.Background(), append(c[:len(c):len(c)], h), strings.NewReader(""), &out, &errb)
			if code != 0 || !strings.Contains(strings.ToLower(out.String()), "usage") {
				t.Errorf("deskguard %s %s: exit %d, stdout %q, stderr %q (want exit 0 and the usage on stdout)", n, h, code, out.String(), errb.String())
			}
		}
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), append(c[:len(c):len(c)], "--no-such-flag"), strings.NewReader(""), &out, &errb)
		if code != 2 || !strings.Contains(strings.ToLower(errb.String()), "usage") {
			t.Errorf("deskguard %s --no-such-flag: exit %d, stderr %q (want exit 2 and the usage on stderr)", n, code, errb.String())
		}
	}
}
