package alerts

// zone_test.go: alerts and the status reply say their times in the desk's
// zone, labelled (New York's when none is given).

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deskguard/deskguard/alert"
)

func TestRenderInTheDesksZone(t *testing.T) {
	at := time.Date(2026, 3, 2, 15, 31, 2, 0, time.UTC) // 10:31:02 in New York, 09:31:02 in Chicago
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	a := alert.WorkerCrash(at, "ACC1", "exit status 2")
	for _, c := range []struct {
		loc  *time.Location
		want string
	}{{nil, "10:31:02 ET"}, {chicago, "09:31:02 CT"}, {tokyo, "00:31:02 JST"}} {
		m := RenderIn(a, c.loc)
		if !strings.Contains(m.Text+blocksText(m), c.want) {
			t.Errorf("zone %v: the alert does not say %q: %s", c.loc, c.want, m.Text+blocksText(m))
		}
		st := RenderStatus(StatusReport{State: "running", At: at, Zone: c.loc})
		if !strings.Contains(st.Text, c.want) {
			t.Errorf("zone %v: the status reply does not say %q: %s", c.loc, c.want, st.Text)
		}
	}
	if Render(a).Text != RenderIn(a, nil).Text {
		t.Error("Render is not RenderIn in New York")
	}
	// The date follows the zone too: 00:31 in Tokyo is the next day.
	if m := RenderIn(a, tokyo); !strings.Contains(blocksText(m), "Tue 3 Mar 2026") {
		t.Errorf("Tokyo's date not shown: %s", blocksText(m))
	}
}

// blocksText is the message's blocks as JSON (their text included).
func blocksText(m Message) string {
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
