package main

// docs_cli_test.go: the CLI's manual stays true to the command table
// (issue 19): every `journal` subcommand the usage lists is in docs/cli.md
// and in `deskguard help`, and docs/DESIGN.md calls nothing "Not built"
// that the command table or the journal's usage has.

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// journalSubcommands returns the subcommands `deskguard journal --help`
// lists, in order.
func journalSubcommands(t *testing.T) []string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"journal", "--help"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("journal --help: exit %d, stderr %q", code, errb.String())
	}
	var subs []string
	for _, m := range regexp.MustCompile(`deskguard journal (\w+)`).FindAllStringSubmatch(out.String(), -1) {
		subs = append(subs, m[1])
	}
	if len(subs) < 4 {
		t.Fatalf("journal --help lists %v, want at least dump, verify, backup, tail:\n%s", subs, out.String())
	}
	return subs
}

func TestCLIDocListsJournalSubcommands(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	var help, errb bytes.Buffer
	dispatch(context.Background(), []string{"help"}, strings.NewReader(""), &help, &errb)
	for _, sub := range journalSubcommands(t) {
		if !strings.Contains(string(doc), "`journal "+sub) {
			t.Errorf("docs/cli.md does not list `journal %s`", sub)
		}
		if !regexp.MustCompile(`journal\s.*\b` + sub + `\b`).MatchString(help.String()) {
			t.Errorf("deskguard help's journal line does not name %s:\n%s", sub, help.String())
		}
	}
}

func TestDesignDocNotBuiltIsTrue(t *testing.T) {
	doc, err := os.ReadFile("../../docs/DESIGN.md")
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]bool{}
	for n := range commands() {
		built[n] = true
	}
	for _, sub := range journalSubcommands(t) {
		built["journal "+sub] = true
	}
	text := strings.Join(strings.Fields(string(doc)), " ")
	tick := regexp.MustCompile("`([^`]+)`")
	for _, i := range regexp.MustCompile(`Not built`).FindAllStringIndex(text, -1) {
		claim := text[i[1]:]
		if end := strings.Index(claim, ". "); end >= 0 {
			claim = claim[:end]
		}
		for _, m := range tick.FindAllStringSubmatch(claim, -1) {
			if built[m[1]] {
				t.Errorf("docs/DESIGN.md says `%s` is not built, but it is a command (%q)", m[1], claim)
			}
		}
	}
}
