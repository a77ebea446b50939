// Tests of Summarize* on crafted input (exact arithmetic) and on real files.

package market

import (
	"strings"
	"testing"

	"github.com/deskguard/deskguard/internal/shareddata"
)

func TestSummarizeTradesArithmetic(t *testing.T) {
	// 2024-03-12: 13:29:59Z is 09:29:59 ET (before RTH), 13:30Z is 09:30.
	in := "time,price,size,side\n" +
		"2024-03-12T13:29:59Z,5000.00,10,B\n" +
		"2024-03-12T13:30:00Z,5001.00,2,S\n" +
		"2024-03-12T13:31:00Z,5002.00,6,B\n" +
		"2024-03-12T20:00:00Z,4990.00,5,S\n" // 16:00 ET: after RTH
	f, err := OpenTrades(strings.NewReader(in), "s.csv")
	if err != nil {
		t.Fatal(err)
	}
	s, err := SummarizeTrades(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.Records != 4 || *s.Trades != 4 || s.Bars != nil || s.Volume != 23 || *s.BuyVolume != 16 || *s.SellVolume != 7 ||
		*s.CumDelta != 9 || *s.RTHCumDelta != 4 || *s.Open != 5000 || *s.High != 5002 || *s.Low != 4990 || *s.Close != 4990 ||
		*s.First != "2024-03-12T13:29:59Z" || *s.Last != "2024-03-12T20:00:00Z" || s.Aggressor != "data" || s.Symbol != nil {
		t.Fatalf("%+v", s)
	}
	// RTH VWAP = (5001×2 + 5002×6) / 8 = 5001.75
	if *s.RTHVWAP != 5001.75 {
		t.Errorf("rth_vwap %v, want 5001.75", *s.RTHVWAP)
	}
}

func TestSummarizeNoRTH(t *testing.T) {
	f, err := OpenTrades(strings.NewReader("time,price,size\n2024-03-12T02:00:00Z,5000,1\n"), "n.csv")
	if err != nil {
		t.Fatal(err)
	}
	s, err := SummarizeTrades(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.RTHVWAP != nil || s.RTHCumDelta != nil || s.Aggressor != "tick-rule" || s.Unknown != 1 || *s.CumDelta != 0 {
		t.Fatalf("%+v", s)
	}
}

func TestSummarizeFileBars(t *testing.T) {
	s, err := SummarizeFile(shareddata.File(t, "es-minute/20131203_trade.zip"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != "bars" || !s.Derived || s.Aggressor != "tick-rule" || s.Trades != nil || *s.Bars != 1372 || s.Records != 1372 ||
		s.Volume != 1686162 || *s.Open != 1800.75 || *s.Close != 1792 || *s.First != "2013-12-03T00:00:00Z" ||
		*s.Last != "2013-12-03T23:59:00Z" || *s.Symbol != "ESZ3" || *s.BuyVolume+*s.SellVolume > s.Volume {
		t.Fatalf("%+v", s)
	}
	if *s.RTHVWAP < *s.Low || *s.RTHVWAP > *s.High {
		t.Errorf("rth_vwap %v outside the day's range", *s.RTHVWAP)
	}
}

func TestSummarizeFileMBO(t *testing.T) {
	s, err := SummarizeFile(shareddata.File(t, "es-ticks/esh4-glbx-mdp3-20231225.mbo.dbn.zst"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Format != FormatDBNMBO || *s.Trades != 2973 || s.Records != 68792 || s.Volume != 9892 || s.Aggressor != "data" ||
		*s.BuyVolume+*s.SellVolume+44 != s.Volume || s.RTHVWAP != nil || s.Inferred != 0 || s.Unknown != 1 {
		t.Fatalf("%+v", s)
	}
}
