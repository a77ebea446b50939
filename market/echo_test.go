package market

// echo_test.go: an error repeats at most 64 bytes of the input it refuses
// (issue 25 item 9: `data summary` echoed a 10 MB field into its error).

import (
	"bytes"
	"strings"
	"testing"
)

func TestErrorsClipEchoedInput(t *testing.T) {
	big := strings.Repeat("Z", 10<<20)
	const h = "time,price,size,side\n"
	const ok = "2024-03-12T13:30:00Z,5150.25,3,B\n"
	const m = "20240312_es_minute_trade_202403.csv"
	cases := []struct {
		name string
		in   []byte
		file string
	}{
		{"csv header", []byte("time,price," + big + "\n"), "x.csv"},
		{"csv time", []byte(h + big + ",5150.25,3,B\n"), "x.csv"},
		{"csv epoch time", []byte(h + "1" + strings.Repeat("9", 10<<20) + ",5150.25,3,B\n"), "x.csv"},
		{"csv price", []byte(h + ok + "2024-03-12T13:30:01Z," + big + ",3,B\n"), "x.csv"},
		{"csv size", []byte(h + "2024-03-12T13:30:01Z,5150.25," + big + ",B\n"), "x.csv"},
		{"csv side", []byte(h + "2024-03-12T13:30:01Z,5150.25,1," + big + "\n"), "x.csv"},
		{"lean time", makeZip(t, map[string]string{m: big + ",5000,5000,5000,5000,1\n"}), "x_trade.zip"},
		{"lean price", makeZip(t, map[string]string{m: "0," + big + ",5000,5000,5000,1\n"}), "x_trade.zip"},
		{"lean volume", makeZip(t, map[string]string{m: "0,5000,5000,5000,5000," + big + "\n"}), "x_trade.zip"},
	}
	for _, c := range cases {
		_, _, err := readAllTrades(t, bytes.NewReader(c.in), c.file)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if n := len(err.Error()); n > 400 {
			t.Errorf("%s: a %d-byte error: %.200q…", c.name, n, err.Error())
		}
	}
	if got := clip(strings.Repeat("é", 40)); len(got) > maxEcho+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "é") {
		t.Errorf("clip cut a rune: %q", got)
	}
	if clip("short") != "short" {
		t.Error("clip changed a short input")
	}
}
