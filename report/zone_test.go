package report

// zone_test.go: the text report's times are in the zone asked for and the
// column says which, as the console labels it (abbreviation, name); nil is
// UTC, labelled too (issue 19).

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteTextLabelsZone(t *testing.T) {
	at := time.Date(2026, 1, 13, 15, 0, 0, 0, time.UTC) // 09:00 CST, 10:00 EST
	r := Build(nil)
	r.Corrections = []Correction{{Seq: 7, Account: "A1", Time: at.UnixNano(), Books: -1, Venue: 0, Qty: 1, Entry: 5000, Why: "venue flat"}}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		zone       *time.Location
		head, cell string
	}{
		{chicago, "TIME (CST, America/Chicago)", "2026-01-13 09:00:00 CST"},
		{nil, "TIME (UTC, UTC)", "2026-01-13 15:00:00 UTC"},
	} {
		var b bytes.Buffer
		if err := r.WriteText(&b, TextOptions{Zone: tc.zone}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.head) || !strings.Contains(b.String(), tc.cell) {
			t.Errorf("zone %v: want %q and %q in:\n%s", tc.zone, tc.head, tc.cell, b.String())
		}
	}
}
