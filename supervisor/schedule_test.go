package supervisor

// schedule_test.go: the schedule's due times on data time and across DST,
// and the flat-by job through the desk.

import (
	"testing"
	"time"

	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
)

func et(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, market.NewYork)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScheduleFiresOnDataTime(t *testing.T) {
	s, err := NewSchedule(ScheduleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(et("2024-03-12 09:30:00"))
	var got []string
	for _, ts := range []string{"2024-03-12 15:44:59", "2024-03-12 15:45:00", "2024-03-12 15:54:59",
		"2024-03-12 15:55:00", "2024-03-12 16:05:01", "2024-03-12 17:59:59", "2024-03-12 18:00:00"} {
		for _, d := range s.Advance(et(ts)) {
			got = append(got, d.Job+"@"+d.At.In(market.NewYork).Format("15:04"))
		}
	}
	want := []string{"no_new_entries@15:45", "flatten_day_accounts@15:55", "daily_summary@16:05", "session_reset@18:00"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestScheduleAcrossDST(t *testing.T) {
	s, _ := NewSchedule(ScheduleConfig{})
	// 2024-03-10 is the spring-forward Sunday; Monday's 15:55 ET is 19:55 UTC.
	s.Start(et("2024-03-08 17:00:00"))
	var flat []time.Time
	for _, d := range s.Advance(et("2024-03-11 23:00:00")) {
		if d.Job == JobFlattenDay {
			flat = append(flat, d.At)
		}
	}
	if len(flat) != 1 || flat[0].UTC().Format("15:04") != "19:55" {
		t.Fatalf("flatten times %v", flat)
	}
}

func TestScheduleBadSpec(t *testing.T) {
	if _, err := NewSchedule(ScheduleConfig{FlattenDay: "99 99 * * *"}); err == nil {
		t.Fatal("bad spec accepted")
	}
	s, err := NewSchedule(ScheduleConfig{DailySummary: "off"})
	if err != nil || len(s.jobs) != 3 {
		t.Fatalf("off: %v %d", err, len(s.jobs))
	}
}

// TestFlatByFlattensDayAccounts: at 15:55 ET the flat-by job liquidates
// every day-trading account that holds anything (one kill, trigger
// schedule_flat_by, nothing halted) and leaves the others alone.
func TestFlatByFlattensDayAccounts(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	specs := killSpecs(3)
	specs[0].DayTrading, specs[2].DayTrading = true, true // K1, K3 day; K2 swing
	r := newRig(t, rigOpt{Accounts: specs})
	r.start(ctx, etAt(15, 30, 0))
	r.step(ctx, etAt(15, 30, 1), pts(5000.25))
	for _, a := range r.d.accts {
		_ = a.m.Fire(EvStart, "test")
		if res := r.d.HandleIntent(ctx, entryFor(a.id, etAt(15, 30, 1))); !res.Sent {
			t.Fatalf("%s: entry not sent: %+v", a.id, res)
		}
	}
	r.step(ctx, etAt(15, 30, 2), pts(5000))
	r.step(ctx, etAt(15, 54, 59), pts(5000.25))
	from := len(r.rec.Calls())
	r.step(ctx, etAt(15, 55, 0), pts(5000.25)) // the job runs; its liquidations fill on the next trade
	if got := r.liquidated(from); got["K1"] != 1 || got["K3"] != 1 || got["K2"] != 0 {
		t.Fatalf("liquidations at 15:55: %v, want K1 and K3 only", got)
	}
	r.step(ctx, etAt(15, 55, 1), pts(5000.25))
	for id, want := range map[string]int64{"K1": 0, "K2": 1, "K3": 0} {
		if p, _ := r.sim.Position(id); p.Qty != want {
			t.Errorf("%s: venue position %d after the flat-by, want %d", id, p.Qty, want)
		}
		if st := r.d.byID[id].m.State(); st != AcctTrading {
			t.Errorf("%s is %s after the flat-by, want trading (a scheduled flatten halts nothing)", id, st)
		}
	}
	var kills []journal.Kill
	for _, rec := range r.records() {
		if rec.Kind == journal.KindKill {
			k, err := rec.Kill()
			if err != nil {
				t.Fatal(err)
			}
			kills = append(kills, k)
		}
	}
	if len(kills) != 1 || kills[0].Trigger != string(TriggerSchedule) || len(kills[0].Accounts) != 2 {
		t.Fatalf("kill records %+v, want one schedule_flat_by for K1 and K3", kills)
	}
	if st := r.d.m.State(); st != DeskRunning {
		t.Fatalf("desk %s after the flat-by", st)
	}
}
