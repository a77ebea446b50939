package main

// cmd_venue_test.go: `deskguard venue`'s --faults and --carried flags, and
// the Rithmic venue's --rms, --rms-late and --rms-refuse (parsed, and a
// real venue process read back over R|Protocol).

import (
	"bufio"
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/broker/rithmic"
	"github.com/deskguard/deskguard/broker/venue"
	"github.com/deskguard/deskguard/market"
)

func TestVenueFaultFlags(t *testing.T) {
	cases := []struct {
		in   string
		want venue.Faults
		bad  bool
	}{
		{in: "realistic", want: venue.Realistic()},
		{in: "none", want: venue.Faults{}},
		{in: "list-cap=3,empty-clordid,late-commands", want: venue.Faults{ListCap: 3, EmptyClOrdID: true, LateCommands: true}},
		{in: "realistic,empty-clordid", want: func() venue.Faults { f := venue.Realistic(); f.EmptyClOrdID = true; return f }()},
		{in: "list-cap=x", bad: true},
		{in: "bust-everything", bad: true},
	}
	for _, c := range cases {
		got, err := parseFaults(c.in)
		if (err != nil) != c.bad || !c.bad && got != c.want {
			t.Errorf("%q: %+v, %v; want %+v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
	cm, err := parseCarried("A=2@5000.25,B=-1@4999.00")
	if err != nil || cm["A"] != (venue.Carry{Qty: 2, Price: market.MustPrice("5000.25")}) || cm["B"].Qty != -1 {
		t.Fatalf("carried %+v, %v", cm, err)
	}
	for _, bad := range []string{"A=2", "A=0@5000", "=1@5000", "A=1@50.1"} {
		if _, err := parseCarried(bad); err == nil {
			t.Errorf("--carried %q accepted", bad)
		}
	}
}

func TestVenueRMSFlags(t *testing.T) {
	got, err := parseRMS("A=500, C=300.50:refuse")
	want := []rmsLimit{{account: "A", loss: decimal.RequireFromString("500"), autoLiq: true},
		{account: "C", loss: decimal.RequireFromString("300.5"), autoLiq: false}}
	if err != nil || len(got.limits) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	for i, w := range want {
		g := got.limits[i]
		if g.account != w.account || !g.loss.Equal(w.loss) || g.autoLiq != w.autoLiq {
			t.Errorf("item %d: %+v, want %+v", i, g, w)
		}
	}
	if r, err := parseRMS(""); err != nil || r.set() {
		t.Fatalf("no --rms: %+v %v", r, err)
	}
	for _, bad := range []string{"A", "=500", "A=0", "A=-5", "A=abc", "A=500:liquidate", "A=500,A=400", "A=500:"} {
		if _, err := parseRMS(bad); err == nil {
			t.Errorf("--rms %q accepted", bad)
		}
	}
}

// startRithmicVenue runs `deskguard venue --protocol rithmic` with extra
// flags and returns its URL and what it printed before.
func startRithmicVenue(t *testing.T, extra ...string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	cmd := selfCmd(t, dir, append([]string{"venue", "--protocol", "rithmic", "--listen", "127.0.0.1:0", "--synth", "1",
		"--accounts", "A,B,C", "--wait-for-chart"}, extra...)...)
	stderr := &lockedBuf{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	var url string
	var printed strings.Builder
	for url == "" || !strings.Contains(printed.String(), "connect with") {
		if !sc.Scan() {
			t.Fatalf("the venue ended before its URL:\n%s\n%s", printed.String(), stderr)
		}
		printed.WriteString(sc.Text() + "\n")
		if v, ok := strings.CutPrefix(sc.Text(), "venue: "); ok {
			url = v
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return url, printed.String()
}

func TestVenueRithmicRMSFlags(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dialRMS := func(url string) *rithmic.Client {
		t.Helper()
		c, err := rithmic.Dial(ctx, rithmic.Config{URL: url, SystemName: "deskguard venue", User: "demo"},
			rithmic.Credentials{Password: "pw"}, rithmic.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// The limits as the firm set them, read back over R|Protocol (304).
	url, printed := startRithmicVenue(t, "--rms", "A=500,C=300.50:refuse", "--rms-late", "2s")
	for _, l := range []string{"rms: A liquidates at a day loss of 500.00", "rms: C refuses orders at a day loss of 300.50",
		"rms: updates late by 2s, first 0 requests refused"} {
		if !strings.Contains(printed, l) {
			t.Errorf("the venue did not print %q:\n%s", l, printed)
		}
	}
	c := dialRMS(url)
	for _, tc := range []struct {
		account string
		limited bool
		loss    string
		autoLiq bool
	}{{"A", true, "500", true}, {"B", false, "0", false}, {"C", true, "300.5", false}} {
		r, err := c.RMS(ctx, tc.account)
		if err != nil {
			t.Fatalf("%s: %v", tc.account, err)
		}
		if r.Limited != tc.limited || !r.LossLimit.Equal(decimal.RequireFromString(tc.loss)) || r.AutoLiquidate != tc.autoLiq || r.Locked() {
			t.Errorf("%s: %s, want limited %v loss %s auto-liquidate %v", tc.account, r, tc.limited, tc.loss, tc.autoLiq)
		}
	}
	if notes := strings.Join(c.Notes(), "\n"); strings.Contains(notes, "refused") {
		t.Errorf("no refusal asked, notes: %s", notes)
	}

	// A gateway that refuses the RMS requests: the login's (a 3508 for
	// each of the three accounts, then a 304) and the next read.
	url, _ = startRithmicVenue(t, "--rms", "A=500", "--rms-refuse", "5")
	c = dialRMS(url)
	if notes := strings.Join(c.Notes(), "\n"); !strings.Contains(notes, "RMS updates of C refused") ||
		!strings.Contains(notes, "RMS limits not read") {
		t.Errorf("login with the RMS refused, notes: %q", notes)
	}
	if r, err := c.RMS(ctx, "A"); err == nil {
		t.Errorf("a refused RMS read answered: %s", r)
	}
	// Past the refusals, the limits are there.
	if r, err := c.RMS(ctx, "A"); err != nil || !r.Limited || !r.LossLimit.Equal(decimal.RequireFromString("500")) || !r.AutoLiquidate {
		t.Fatalf("after the refusals: %s %v", r, err)
	}

	// Tradovate has no RMS to set.
	cmd := selfCmd(t, t.TempDir(), "venue", "--protocol", "tradovate", "--synth", "1", "--listen", "127.0.0.1:0", "--rms", "A=500")
	if out, err := cmd.CombinedOutput(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 ||
		!strings.Contains(string(out), "--protocol rithmic only") {
		t.Errorf("--rms with tradovate: %v %s", err, out)
	}
	// An account the venue does not have.
	cmd = selfCmd(t, t.TempDir(), "venue", "--protocol", "rithmic", "--synth", "1", "--listen", "127.0.0.1:0", "--accounts", "A", "--rms", "Z=500")
	if out, err := cmd.CombinedOutput(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 ||
		!strings.Contains(string(out), `unknown account "Z"`) {
		t.Errorf("--rms for an unknown account: %v %s", err, out)
	}
}
