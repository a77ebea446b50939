// command_test.go: a desk accepts a firm command once, and refuses one that
// is forged, altered, for another desk, stale, from the future, replayed or
// signed with another key — the near misses at the age limit included.

package wire

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestVerifier(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	mk := func(id string, issued time.Time, key ed25519.PrivateKey, edit func(*Command)) Command {
		c := Command{ID: id, KillID: "k1", Desk: "east", Op: OpKill, Who: "firm:risk", Reason: "test", Issued: issued.UnixNano()}
		c.Sign(key)
		if edit != nil {
			edit(&c)
		}
		return c
	}
	v := &Verifier{Desk: "east", Key: pub, MaxAge: 30 * time.Second}
	cases := []struct {
		name string
		c    Command
		want error
	}{
		{"good", mk("c1", now, priv, nil), nil},
		{"replayed", mk("c1", now, priv, nil), ErrReplayed},
		{"at the age limit", mk("c2", now.Add(-30*time.Second), priv, nil), nil},
		{"just past the age limit", mk("c3", now.Add(-30*time.Second-time.Millisecond), priv, nil), ErrStale},
		{"from the future", mk("c4", now.Add(31*time.Second), priv, nil), ErrStale},
		{"other key", mk("c5", now, other, nil), ErrBadSignature},
		{"altered reason", mk("c6", now, priv, func(c *Command) { c.Reason = "other" }), ErrBadSignature},
		{"altered issued", mk("c7", now.Add(-time.Hour), priv, func(c *Command) { c.Issued = now.UnixNano() }), ErrBadSignature},
		{"other desk", mk("c8", now, priv, func(c *Command) { c.Desk = "west"; c.Sign(priv) }), ErrWrongDesk},
		{"no signature", mk("c9", now, priv, func(c *Command) { c.Sig = "" }), ErrBadSignature},
		{"bad op", mk("c10", now, priv, func(c *Command) { c.Op = "rearm"; c.Sign(priv) }), ErrBadCommand},
		{"no kill id", mk("c11", now, priv, func(c *Command) { c.KillID = ""; c.Sign(priv) }), ErrBadCommand},
		{"re-issued kill, new id", mk("c12", now, priv, nil), nil},
	}
	for _, tc := range cases {
		err := v.Check(tc.c, now)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A stale command is refused even though its id was never seen, and a
	// refused command's id is not burnt: only passing ones are recorded.
	if err := v.Check(mk("c13", now, priv, nil), now.Add(time.Minute)); !errors.Is(err, ErrStale) {
		t.Errorf("late: %v", err)
	}
	if err := v.Check(mk("c13", now, priv, nil), now); err != nil {
		t.Errorf("c13 in time after a stale refusal: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "firm.key"), filepath.Join(dir, "firm.pub")
	p, err := GenerateKey(priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKey(priv, pub); err == nil {
		t.Fatal("GenerateKey overwrote a key")
	}
	k, err := LoadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := LoadPublicKey(pub)
	if err != nil || !p2.Equal(p) || !k.Public().(ed25519.PublicKey).Equal(p) {
		t.Fatalf("keys do not round-trip: %v", err)
	}
	if err := os.Chmod(priv, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivateKey(priv); err == nil {
		t.Fatal("a world-readable private key was accepted")
	}
	if _, err := LoadPublicKey(priv); err == nil {
		t.Fatal("a private key file read as a public key")
	}
}

func TestValidDesk(t *testing.T) {
	for name, want := range map[string]bool{"east": true, "Desk_2-a": true, "": false, "a.b": false, "a*": false, "a>": false, "a b": false} {
		if ValidDesk(name) != want {
			t.Errorf("ValidDesk(%q) = %v", name, !want)
		}
	}
}
