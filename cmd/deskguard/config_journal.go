package main

// config_journal.go: `deskguard run` journals the effective config at start
// (issue 04: config changes are journaled): one config_change record with
// key "config", to "sha256:<hex of the canonical config>", and the summary
// an auditor needs (config.AuditSummary: accounts, limits, drawdown,
// schedule, broker, who holds a token) — never a secret.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/journal"
)

// configRecord is the config_change record of c at desk start.
func configRecord(c *config.Config) (journal.Record, error) {
	sum, err := c.AuditSummary()
	if err != nil {
		return journal.Record{}, err
	}
	body, err := json.Marshal(sum)
	if err != nil {
		return journal.Record{}, err
	}
	return journal.NewConfigChange("", 0, journal.ConfigChange{Who: "deskguard", Key: "config", To: "sha256:" + sum.SHA256,
		Why: "desk start: effective config", Effective: body}), nil
}

// journalConfig appends c's config_change record and waits until it is
// durable.
func journalConfig(ctx context.Context, j *journal.Journal, c *config.Config) error {
	rec, err := configRecord(c)
	if err != nil {
		return err
	}
	if _, err := j.Append(ctx, rec); err != nil {
		return fmt.Errorf("journal the config: %w", err)
	}
	return nil
}

// summarizeConfig is a config_change record on one dump line.
func summarizeConfig(cc journal.ConfigChange) string {
	if len(cc.Effective) == 0 {
		s := fmt.Sprintf("%s %s → %s by %s", cc.Key, cc.From, cc.To, cc.Who)
		if cc.From == "" {
			s = fmt.Sprintf("%s = %s by %s", cc.Key, cc.To, cc.Who)
		}
		if cc.Why != "" {
			s += " (" + cc.Why + ")"
		}
		return s
	}
	var sum config.AuditSummary
	if err := json.Unmarshal(cc.Effective, &sum); err != nil {
		return fmt.Sprintf("%s %s by %s (%s)", cc.Key, cc.To, cc.Who, cc.Why)
	}
	ids := make([]string, len(sum.Accounts))
	for i, a := range sum.Accounts {
		ids[i] = a.ID
	}
	return fmt.Sprintf("%s %s from %s (%s): broker %s, %d accounts [%s], drawdown %s%% account / %s%% desk, by %s",
		cc.Key, cc.To, sum.Source, cc.Why, sum.Broker.Kind, len(ids), strings.Join(ids, " "), sum.Limits.DrawdownPct, sum.DrawdownPct, cc.Who)
}
