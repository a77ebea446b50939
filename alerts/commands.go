// commands.go: what /deskguard and the flatten buttons do — parse, ask authz
// whether the user may (a user in AllowedUsers has the role authz.Slack:
// status and flatten), record every command, call the Desk — shared by the
// Socket Mode client and the HTTP endpoint.

package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/market"
	"github.com/slack-go/slack"
)

// Desk is what Slack commands may do to the desk.
type Desk interface {
	// Flatten kills the whole desk (account "") or one account: trigger is
	// "slack", who the Slack user id.
	Flatten(ctx context.Context, account string, trigger, who string) error
	Status(ctx context.Context) (StatusReport, error)
}

// TriggerSlack is the trigger name Slack flattens pass to Desk.Flatten.
const TriggerSlack = "slack"

// Verb is a parsed /deskguard command.
type Verb string

// Verbs.
const (
	VerbStatus  Verb = "status"
	VerbFlatten Verb = "flatten"
	VerbRearm   Verb = "rearm"  // always refused from Slack
	VerbUnlock  Verb = "unlock" // always refused from Slack
	VerbHelp    Verb = "help"
	VerbUnknown Verb = "unknown"
)

// Command is /deskguard's text, parsed.
type Command struct {
	Verb    Verb
	Account string // flatten: "" = all (the whole desk)
	Arg     string // what was not understood, for the reply
}

// ParseCommand parses the text after /deskguard: "status", "flatten all",
// "flatten ACCOUNT", "help". "rearm", "re-arm" and "unlock …" parse so they
// can be refused by name.
func ParseCommand(text string) Command {
	f := strings.Fields(text)
	if len(f) == 0 {
		return Command{Verb: VerbHelp}
	}
	switch strings.ToLower(f[0]) {
	case "status":
		if len(f) == 1 {
			return Command{Verb: VerbStatus}
		}
	case "flatten", "kill":
		if len(f) == 2 {
			if strings.EqualFold(f[1], "all") || strings.EqualFold(f[1], "desk") {
				return Command{Verb: VerbFlatten}
			}
			if validAccount(f[1]) {
				return Command{Verb: VerbFlatten, Account: f[1]}
			}
		}
	case "rearm", "re-arm", "arm":
		return Command{Verb: VerbRearm}
	case "unlock":
		return Command{Verb: VerbUnlock}
	case "help", "?":
		return Command{Verb: VerbHelp}
	}
	arg := strings.Join(f, " ")
	if len(arg) > 80 {
		arg = arg[:80]
	}
	return Command{Verb: VerbUnknown, Arg: arg}
}

// validAccount accepts account ids made of letters, digits, '-', '_' and '.'
// (at most 64), so nothing odd reaches the desk or the journal.
func validAccount(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// Reply is what the user who asked sees (ephemeral).
type Reply struct {
	Message
}

func textReply(s string) Reply {
	return Reply{Message{Text: s, Blocks: []slack.Block{slack.NewSectionBlock(mrkdwn(s), nil, nil)}}}
}

// Commander carries out Slack commands against a Desk.
type Commander struct {
	cfg     Config
	desk    Desk
	rec     Recorder
	log     *slog.Logger
	clock   market.Clock
	allowed map[string]bool
	replay  *replayCache
}

// NewCommander builds the command handler. Start it with RunSocketMode (app
// token) or mount HTTPHandler (signing secret), or both.
func NewCommander(cfg Config, desk Desk, rec Recorder, log *slog.Logger, clock market.Clock) *Commander {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = market.WallClock{}
	}
	if rec == nil {
		rec = nopRecorder{}
	}
	c := &Commander{cfg: cfg, desk: desk, rec: rec, log: log, clock: clock, allowed: map[string]bool{},
		replay: newReplayCache(cfg.ReplayCache)}
	for _, u := range cfg.AllowedUsers {
		if u = strings.TrimSpace(u); u != "" {
			c.allowed[u] = true
		}
	}
	return c
}

// role is what authz knows user as: authz.Slack for a user in
// allowed_users, no role (every act refused) for anyone else.
func (c *Commander) role(user string) auth.Role {
	if c.allowed[user] {
		return authz.Slack
	}
	return auth.Role{}
}

const helpText = "*/deskguard* commands:\n" +
	"• `/deskguard status` — the desk and every account\n" +
	"• `/deskguard flatten all` — kill the whole desk (cancel every order, flatten every position)\n" +
	"• `/deskguard flatten ACCOUNT` — kill one account\n" +
	"Re-arming the desk and unlocking an account are not possible from Slack."

// Slash carries out "/deskguard <text>" for user.
func (c *Commander) Slash(ctx context.Context, user, command, text string) Reply {
	full := strings.TrimSpace(command + " " + text)
	if len(full) > 200 {
		full = full[:200]
	}
	if command != c.cfg.Command {
		c.rec.RecordCommand(user, full, false, "unknown slash command")
		return textReply(fmt.Sprintf("deskguard answers %s only.", c.cfg.Command))
	}
	cmd := ParseCommand(text)
	switch cmd.Verb {
	case VerbHelp:
		c.rec.RecordCommand(user, full, true, "help")
		return textReply(helpText)
	case VerbUnknown:
		c.rec.RecordCommand(user, full, false, "unknown command")
		return textReply(fmt.Sprintf("Unknown command `%s`.\n%s", cmd.Arg, helpText))
	case VerbRearm, VerbUnlock:
		// authz refuses both to every Slack user (authz.Slack may only ask
		// for the status and flatten): asked for the record.
		if authz.Allowed(authz.Slack, authz.Act(cmd.Verb), "") == nil {
			break
		}
		what := "Re-arming the desk"
		if cmd.Verb == VerbUnlock {
			what = "Unlocking an account"
		}
		c.rec.RecordCommand(user, full, false, string(cmd.Verb)+" is not possible from Slack")
		return textReply(what + " is not possible from Slack: the risk manager does it from the console or `deskguard " + string(cmd.Verb) + "`, with a reason.")
	case VerbStatus:
		if authz.Allowed(c.role(user), authz.Status, "") != nil {
			c.rec.RecordCommand(user, full, false, "user not in allowed_users")
			return textReply("You are not allowed to use /deskguard (ask the risk manager to add your Slack user id).")
		}
		c.rec.RecordCommand(user, full, true, "status")
		return c.status(ctx)
	case VerbFlatten:
		return c.flatten(ctx, user, full, cmd.Account)
	}
	return textReply(helpText)
}

// Action carries out a button press (block_actions) for user.
func (c *Commander) Action(ctx context.Context, user, actionID, value string) Reply {
	full := "button " + actionID + " " + value
	switch actionID {
	case ActionFlattenDesk:
		return c.flatten(ctx, user, full, "")
	case ActionFlattenAccount:
		if !validAccount(value) {
			c.rec.RecordCommand(user, full, false, "bad account in button value")
			return textReply("That button names no valid account.")
		}
		return c.flatten(ctx, user, full, value)
	}
	c.rec.RecordCommand(user, full, false, "unknown action")
	return textReply("Unknown action.")
}

func (c *Commander) status(ctx context.Context) Reply {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.AckWithin)
	defer cancel()
	st, err := c.desk.Status(ctx)
	if err != nil {
		c.log.Warn("slack status failed", "err", err)
		return textReply("Status failed: " + err.Error())
	}
	return Reply{RenderStatus(st)}
}

// flatten checks the user, records the command, then asks the desk. It waits
// at most AckWithin for Flatten (Slack wants an answer within 3 s); the kill
// itself runs on with a context that is never cancelled.
func (c *Commander) flatten(ctx context.Context, user, full, account string) Reply {
	scope := "the desk"
	if account != "" {
		scope = "account " + account
	}
	if authz.Allowed(c.role(user), authz.Flatten, account) != nil {
		c.rec.RecordCommand(user, full, false, "flatten "+scope+" refused: user not in allowed_users")
		c.log.Warn("slack flatten refused", "user", user, "scope", scope)
		return textReply("Refused: you are not allowed to flatten. This attempt was recorded.")
	}
	c.rec.RecordCommand(user, full, true, "flatten "+scope)
	c.log.Warn("slack flatten", "user", user, "scope", scope)
	done := make(chan error, 1)
	kctx := context.WithoutCancel(ctx)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("alerts: desk flatten panicked: %v", r)
			}
		}()
		done <- c.desk.Flatten(kctx, account, TriggerSlack, user)
	}()
	t := time.NewTimer(c.cfg.AckWithin)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			c.log.Error("slack flatten failed", "user", user, "scope", scope, "err", err)
			return textReply(fmt.Sprintf("Flatten %s FAILED: %v", scope, err))
		}
		return textReply(fmt.Sprintf(":octagonal_sign: Flatten %s sent (by <@%s>). Every order cancelled, positions liquidating; watch the channel for the kill report.", scope, user))
	case <-t.C:
		go func() {
			if err := <-done; err != nil {
				c.log.Error("slack flatten failed", "user", user, "scope", scope, "err", err)
			}
		}()
		return textReply(fmt.Sprintf(":hourglass: Flatten %s requested (by <@%s>); still in progress — watch the channel.", scope, user))
	}
}

// ErrOff is returned by RunSocketMode without an app token and by
// HTTPHandler's requests without a signing secret.
var ErrOff = errors.New("alerts: slack commands off")
