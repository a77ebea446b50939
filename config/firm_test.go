// firm_test.go: the [firm] table — accepted as the example writes it, and
// each bad value refused with its key.

package config

import (
	"strings"
	"testing"
)

const firmBase = `
[desk]
name = "east"
[[accounts]]
id = "A1"
start_equity = "50000.00"
strategies = ["orb"]
`

func TestFirmTable(t *testing.T) {
	c, err := Parse("f.toml", firmBase+"[firm]\nurl = \"nats://127.0.0.1:4222, nats://127.0.0.2:4222\"\nreduce_only_after = \"30s\"\nreplicas = 3\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.FirmDesk() != "east" || c.Firm.ReduceOnlyAfter.String() != "30s" || c.Firm.Replicas != 3 {
		t.Fatalf("parsed %+v, desk %q", c.Firm, c.FirmDesk())
	}
	if c, err := Parse("f.toml", firmBase); err != nil || c.Firm.URL != "" || c.Firm.ReduceOnlyAfter != 0 {
		t.Fatalf("no [firm]: %+v %v (the link is off and reduce-only never by default)", c.Firm, err)
	}
	for _, tc := range []struct{ body, key string }{
		{`url = "http://x:4222"`, "firm.url"},
		{"url = \"nats://x:4222\"\ndesk = \"a.b\"", "firm.desk"},
		{"url = \"nats://x:4222\"\ncreds_file = \"a\"\ntoken_file = \"b\"", "firm.creds_file"},
		{"url = \"nats://x:4222\"\nfirm_timeout = \"-1s\"", "firm.firm_timeout"},
		{"url = \"nats://x:4222\"\nreplicas = 7", "firm.replicas"},
		{`urls = "nats://x:4222"`, "firm.urls"},
	} {
		_, err := Parse("f.toml", firmBase+"[firm]\n"+tc.body+"\n")
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: %v, want an error naming %s", tc.body, err, tc.key)
		}
	}
}
