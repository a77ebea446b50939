package supervisor

// schedule.go: the desk's daily schedule on robfig/cron/v3 specs in
// America/New_York, driven by the desk's Clock rather than cron's own
// timer, so a replayed session fires its 15:55 flatten at 15:55 of the
// data and a live desk at 15:55 of the wall clock.

import (
	"fmt"
	"sort"
	"time"

	"github.com/robfig/cron/v3"
)

// Job names.
const (
	JobSessionReset = "session_reset" // new start equity; lockouts lifted unless unlocks are manual
	JobNoEntries    = "no_new_entries"
	JobFlattenDay   = "flatten_day_accounts"
	JobDailySummary = "daily_summary"
)

// ScheduleConfig holds the cron specs (standard 5-field, New York time).
type ScheduleConfig struct {
	SessionReset string `toml:"session_reset"` // default "0 18 * * 0-4" (18:00 ET, Sunday–Thursday)
	NoNewEntries string `toml:"no_new_entries"`
	FlattenDay   string `toml:"flat_by"`
	DailySummary string `toml:"daily_summary"`
}

// DefaultSchedule returns DESIGN.md's defaults.
func DefaultSchedule() ScheduleConfig {
	return ScheduleConfig{
		SessionReset: "0 18 * * 0-4",
		NoNewEntries: "45 15 * * 1-5",
		FlattenDay:   "55 15 * * 1-5",
		DailySummary: "5 16 * * 1-5",
	}
}

type job struct {
	name  string
	sched cron.Schedule
	next  time.Time
}

// Schedule says which jobs fell due as the clock moves.
type Schedule struct {
	jobs []*job
}

// NewSchedule parses the specs; a bad spec is an error naming the job.
func NewSchedule(c ScheduleConfig) (*Schedule, error) {
	d := DefaultSchedule()
	specs := []struct{ name, spec, def string }{
		{JobSessionReset, c.SessionReset, d.SessionReset},
		{JobNoEntries, c.NoNewEntries, d.NoNewEntries},
		{JobFlattenDay, c.FlattenDay, d.FlattenDay},
		{JobDailySummary, c.DailySummary, d.DailySummary},
	}
	s := &Schedule{}
	for _, sp := range specs {
		spec := sp.spec
		if spec == "" {
			spec = sp.def
		}
		if spec == "off" {
			continue
		}
		sch, err := cron.ParseStandard("CRON_TZ=America/New_York " + spec)
		if err != nil {
			return nil, fmt.Errorf("schedule: %s %q: %w", sp.name, spec, err)
		}
		s.jobs = append(s.jobs, &job{name: sp.name, sched: sch})
	}
	return s, nil
}

// Start sets the first due times after now (jobs whose time has passed
// before now do not fire retroactively).
func (s *Schedule) Start(now time.Time) {
	for _, j := range s.jobs {
		j.next = j.sched.Next(now)
	}
}

// Due is a job that fell due at At.
type Due struct {
	Job string
	At  time.Time
}

// Advance returns, in time order, every job due in (previous now, now].
// A job due several times in a jump (a replay skipping a weekend) fires once
// per due time.
func (s *Schedule) Advance(now time.Time) []Due {
	var out []Due
	for _, j := range s.jobs {
		if j.next.IsZero() {
			j.next = j.sched.Next(now)
			continue
		}
		for !j.next.After(now) {
			out = append(out, Due{Job: j.name, At: j.next})
			j.next = j.sched.Next(j.next)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].At.Before(out[b].At) })
	return out
}

// Next returns the earliest time any job is due (zero if none).
func (s *Schedule) Next() time.Time {
	var t time.Time
	for _, j := range s.jobs {
		if t.IsZero() || j.next.Before(t) {
			t = j.next
		}
	}
	return t
}

// NextOf returns when the job is next due (zero if it is off).
func (s *Schedule) NextOf(name string) time.Time {
	for _, j := range s.jobs {
		if j.name == name {
			return j.next
		}
	}
	return time.Time{}
}
