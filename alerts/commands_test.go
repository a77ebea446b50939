// commands_test.go: /deskguard parsing, who may do what, and that every
// command — allowed or refused — is recorded with the Slack user id.

package alerts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/market"
)

func TestParseCommand(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Command
	}{
		{"", Command{Verb: VerbHelp}},
		{"  help ", Command{Verb: VerbHelp}},
		{"status", Command{Verb: VerbStatus}},
		{"STATUS", Command{Verb: VerbStatus}},
		{"flatten all", Command{Verb: VerbFlatten}},
		{"flatten desk", Command{Verb: VerbFlatten}},
		{"flatten ACC1", Command{Verb: VerbFlatten, Account: "ACC1"}},
		{"kill trader-7", Command{Verb: VerbFlatten, Account: "trader-7"}},
		{"flatten", Command{Verb: VerbUnknown, Arg: "flatten"}},
		{"flatten a b", Command{Verb: VerbUnknown, Arg: "flatten a b"}},
		{"flatten <@U1>", Command{Verb: VerbUnknown, Arg: "flatten <@U1>"}},
		{"status now", Command{Verb: VerbUnknown, Arg: "status now"}},
		{"rearm", Command{Verb: VerbRearm}},
		{"re-arm because", Command{Verb: VerbRearm}},
		{"unlock ACC1 reason", Command{Verb: VerbUnlock}},
		{"buy 5", Command{Verb: VerbUnknown, Arg: "buy 5"}},
	} {
		if got := ParseCommand(c.in); got != c.want {
			t.Errorf("ParseCommand(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "status", "flatten all", "flatten ACC1", "unlock x", "flatten \x00", strings.Repeat("a ", 500)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseCommand(s)
		if c.Verb == VerbFlatten && c.Account != "" && !validAccount(c.Account) {
			t.Fatalf("flatten of invalid account %q", c.Account)
		}
		if len(c.Arg) > 80 {
			t.Fatalf("arg too long: %d", len(c.Arg))
		}
	})
}

func newCommander(t *testing.T, d Desk, rec Recorder) *Commander {
	cfg := Config{AllowedUsers: []string{"U123", " URISK "}, AckWithin: 2 * time.Second}
	return NewCommander(cfg, d, rec, testLog(t), market.NewReplayClock(t0))
}

func TestSlashCommands(t *testing.T) {
	for _, c := range []struct {
		name, user, cmd, text string
		flatten               *flattenCall // the Desk call expected, or none
		allowed               bool
		reply                 string
	}{
		{"allowed flatten all", "U123", "/deskguard", "flatten all", &flattenCall{"", "slack", "U123"}, true, "Flatten the desk sent"},
		{"allowed flatten account", "URISK", "/deskguard", "flatten ACC2", &flattenCall{"ACC2", "slack", "URISK"}, true, "Flatten account ACC2 sent"},
		{"refused flatten", "U999", "/deskguard", "flatten all", nil, false, "Refused"},
		{"refused rearm", "U123", "/deskguard", "rearm", nil, false, "not possible from Slack"},
		{"refused unlock", "U123", "/deskguard", "unlock ACC1 because", nil, false, "not possible from Slack"},
		{"status", "U123", "/deskguard", "status", nil, true, "Desk running"},
		{"status refused", "U999", "/deskguard", "status", nil, false, "not allowed"},
		{"unknown", "U123", "/deskguard", "sell 5", nil, false, "Unknown command"},
		{"other command", "U123", "/other", "flatten all", nil, false, "answers /deskguard only"},
		{"help", "U999", "/deskguard", "", nil, true, "commands"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newFakeDesk()
			d.status = StatusReport{State: "running", At: t0, Accounts: []AccountStatus{{ID: "ACC1", State: "trading", Position: 5, Net: dec("46"), DrawdownUsed: dec("0.1"), WorkingOrders: 2}}}
			rec := newRecorder()
			r := newCommander(t, d, rec).Slash(context.Background(), c.user, c.cmd, c.text)
			if !strings.Contains(r.Text, c.reply) {
				t.Errorf("reply %q lacks %q", r.Text, c.reply)
			}
			if c.flatten != nil {
				if got := d.nextFlatten(t, time.Second); got != *c.flatten {
					t.Errorf("Flatten(%+v), want %+v", got, *c.flatten)
				}
			} else if len(d.flattens) != 0 {
				t.Errorf("Flatten called: %+v", <-d.flattens)
			}
			cmds := rec.cmds()
			if len(cmds) != 1 || cmds[0].User != c.user || cmds[0].Allowed != c.allowed {
				t.Fatalf("recorded %+v", cmds)
			}
		})
	}
}

func TestButtons(t *testing.T) {
	d := newFakeDesk()
	rec := newRecorder()
	c := newCommander(t, d, rec)
	c.Action(context.Background(), "U123", ActionFlattenAccount, "ACC1")
	if got := d.nextFlatten(t, time.Second); got != (flattenCall{"ACC1", "slack", "U123"}) {
		t.Fatalf("got %+v", got)
	}
	c.Action(context.Background(), "U123", ActionFlattenDesk, "all")
	if got := d.nextFlatten(t, time.Second); got != (flattenCall{"", "slack", "U123"}) {
		t.Fatalf("got %+v", got)
	}
	c.Action(context.Background(), "U777", ActionFlattenDesk, "all")
	c.Action(context.Background(), "U123", ActionFlattenAccount, "bad account;")
	c.Action(context.Background(), "U123", "deskguard_rearm", "")
	if len(d.flattens) != 0 {
		t.Fatal("refused button flattened")
	}
	want := []bool{true, true, false, false, false}
	cmds := rec.cmds()
	if len(cmds) != len(want) {
		t.Fatalf("recorded %+v", cmds)
	}
	for i, w := range want {
		if cmds[i].Allowed != w {
			t.Errorf("command %d %+v: allowed %v, want %v", i, cmds[i], cmds[i].Allowed, w)
		}
	}
}

// A Flatten slower than Slack's 3 s ack window still runs to completion;
// the reply says it is in progress.
func TestSlowFlattenRepliesInTime(t *testing.T) {
	d := newFakeDesk()
	d.block = make(chan struct{})
	cfg := Config{AllowedUsers: []string{"U123"}, AckWithin: 20 * time.Millisecond}
	c := NewCommander(cfg, d, newRecorder(), testLog(t), nil)
	r := c.Slash(context.Background(), "U123", "/deskguard", "flatten all")
	if !strings.Contains(r.Text, "still in progress") {
		t.Fatalf("reply %q", r.Text)
	}
	d.nextFlatten(t, time.Second)
	close(d.block)
}

func TestFlattenErrorReported(t *testing.T) {
	d := newFakeDesk()
	d.err = errors.New("venue unreachable")
	r := newCommander(t, d, newRecorder()).Slash(context.Background(), "U123", "/deskguard", "flatten ACC1")
	if !strings.Contains(r.Text, "FAILED") || !strings.Contains(r.Text, "venue unreachable") {
		t.Fatalf("reply %q", r.Text)
	}
}
