package auth

// check_test.go: Check compares against every configured token wherever
// the match or near-match is (structure, not timing: a counting compare
// that fails as soon as anyone adds an early return), and the benchmark
// pair near miss / far miss.

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// manyTokens registers n tokens (as NewToken makes them) for user00 … and
// returns them.
func manyTokens(n int) (*Tokens, []string) {
	ts := &Tokens{}
	var plain []string
	for i := range n {
		tok := NewToken()
		ts.AddPlain(fmt.Sprintf("user%02d", i), tok, Role{Kind: "viewer"})
		plain = append(plain, tok)
	}
	return ts, plain
}

// nearMiss is tok with its last character changed.
func nearMiss(tok string) string {
	c := "0"
	if tok[len(tok)-1] == '0' {
		c = "1"
	}
	return tok[:len(tok)-1] + c
}

func TestCheckComparesEveryEntry(t *testing.T) {
	const n = 7
	ts, plain := manyTokens(n)
	var seen [][]byte
	ts.eq = func(a, b []byte) int {
		seen = append(seen, append([]byte(nil), b...))
		if bytes.Equal(a, b) {
			return 1
		}
		return 0
	}
	type tc struct {
		name, token string
		want        int // index of the principal, -1 = refused
	}
	var cases []tc
	for _, i := range []int{0, n / 2, n - 1} {
		cases = append(cases,
			tc{fmt.Sprintf("match at %d", i), plain[i], i},
			tc{fmt.Sprintf("near miss of %d", i), nearMiss(plain[i]), -1},
			tc{fmt.Sprintf("prefix of %d", i), plain[i][:len(plain[i])-1], -1})
	}
	cases = append(cases, tc{"far miss", "zzzzzzzz", -1}, tc{"empty", "", -1})
	for _, c := range cases {
		seen = seen[:0]
		p, err := ts.Check(c.token)
		switch {
		case c.want < 0 && !errors.Is(err, ErrBadToken):
			t.Errorf("%s: %+v %v, want ErrBadToken", c.name, p, err)
		case c.want >= 0 && (err != nil || p.Name != fmt.Sprintf("user%02d", c.want)):
			t.Errorf("%s: %+v %v", c.name, p, err)
		}
		if len(seen) != n {
			t.Errorf("%s: %d compares, want one per token (%d)", c.name, len(seen), n)
			continue
		}
		for i := range seen {
			if !bytes.Equal(seen[i], ts.entries[i].hash[:]) {
				t.Errorf("%s: compare %d was not against entry %d", c.name, i, i)
			}
		}
	}
}

func TestCheckUsesConstantTimeCompareByDefault(t *testing.T) {
	ts, plain := manyTokens(3)
	if ts.eq != nil {
		t.Fatal("a fresh Tokens has a compare hook set")
	}
	if p, err := ts.Check(plain[2]); err != nil || p.Name != "user02" {
		t.Fatalf("%+v %v", p, err)
	}
}

// benchCheck times Check of a refused token against 8 configured tokens.
func benchCheck(b *testing.B, bad func(plain []string) string) {
	ts, plain := manyTokens(8)
	tok := bad(plain)
	if _, err := ts.Check(tok); !errors.Is(err, ErrBadToken) {
		b.Fatalf("%q accepted", tok)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ts.Check(tok)
	}
}

// BenchmarkCheckNearMiss: the last configured token with its last
// character changed.
func BenchmarkCheckNearMiss(b *testing.B) {
	benchCheck(b, func(plain []string) string { return nearMiss(plain[len(plain)-1]) })
}

// BenchmarkCheckFarMiss: a token of the same length sharing nothing with
// any configured one.
func BenchmarkCheckFarMiss(b *testing.B) {
	benchCheck(b, func(plain []string) string {
		return string(bytes.Repeat([]byte{'z'}, len(plain[0])))
	})
}
