// Package auth maps bearer tokens to roles for the console and the control
// socket: manager, trader:ID, viewer. What each role may do and see is
// package authz's to decide. Tokens are kept only as SHA-256 hashes and
// compared in constant time; a token never appears in a log or error.
//
// It may touch only the standard library's crypto (crypto/rand, crypto/sha256, crypto/subtle): no
// file, network or clock.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Role is what a token may do.
type Role struct {
	Kind    string // "manager", "trader", "viewer"
	Account string // for traders
}

func (r Role) String() string {
	if r.Kind == "trader" {
		return "trader:" + r.Account
	}
	return r.Kind
}

// ParseRole parses "manager", "viewer" or "trader:ID".
func ParseRole(s string) (Role, error) {
	switch {
	case s == "manager" || s == "viewer":
		return Role{Kind: s}, nil
	case strings.HasPrefix(s, "trader:") && len(s) > len("trader:"):
		return Role{Kind: "trader", Account: s[len("trader:"):]}, nil
	}
	return Role{}, fmt.Errorf("auth: role %q: want manager, viewer or trader:ACCOUNT", s)
}

// Principal is an authenticated caller: its name (for the journal) and role.
type Principal struct {
	Name string
	Role Role
}

type entry struct {
	hash [32]byte
	p    Principal
}

// Tokens holds hashed tokens.
type Tokens struct {
	entries []entry
	// eq compares two hashes (1 = equal); nil means
	// subtle.ConstantTimeCompare. Tests replace it to count the compares.
	eq func(a, b []byte) int
}

// ErrBadToken is returned for a missing or unknown token.
var ErrBadToken = errors.New("auth: missing or unknown token")

// ErrDuplicateToken is returned by Add for a token already registered
// (under any name or role).
var ErrDuplicateToken = errors.New("auth: the same token is configured twice")

// Hash returns the hex SHA-256 of a token, the form kept in configs.
func Hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Add registers a token by its hex SHA-256 hash.
func (t *Tokens) Add(name, hashHex string, role Role) error {
	b, err := hex.DecodeString(hashHex)
	if err != nil || len(b) != 32 {
		return fmt.Errorf("auth: token %q: hash must be 64 hex digits (sha256)", name)
	}
	var e entry
	copy(e.hash[:], b)
	for _, o := range t.entries {
		if o.hash == e.hash {
			// One token, two principals: which name the journal records
			// (and which role it gets) would depend on the order.
			return fmt.Errorf("%w: %q and %q", ErrDuplicateToken, o.p.Name, name)
		}
	}
	e.p = Principal{Name: name, Role: role}
	t.entries = append(t.entries, e)
	return nil
}

// AddPlain registers a plaintext token (demo tokens, tests); only its hash
// is kept. A token already registered is ignored (Add says why).
func (t *Tokens) AddPlain(name, token string, role Role) {
	_ = t.Add(name, Hash(token), role)
}

// Check returns the principal of token. It hashes the token (so how close
// a wrong token is to a right one says nothing about how close the hashes
// are) and compares the hash against every entry in constant time, with no
// early return and no branch on which entry matched, so timing says
// nothing about which one matched.
func (t *Tokens) Check(token string) (Principal, error) {
	h := sha256.Sum256([]byte(token))
	match, at := 0, 0
	for i := range t.entries {
		m := t.compare(&h, &t.entries[i].hash)
		at = subtle.ConstantTimeSelect(m, i, at)
		match |= m
	}
	if match == 0 || token == "" {
		return Principal{}, ErrBadToken
	}
	return t.entries[at].p, nil
}

// compare is subtle.ConstantTimeCompare, or the test's hook (given copies,
// so that h need not escape to the heap when there is no hook).
func (t *Tokens) compare(h, e *[32]byte) int {
	if t.eq != nil {
		a, b := *h, *e
		return t.eq(a[:], b[:])
	}
	return subtle.ConstantTimeCompare(h[:], e[:])
}

// Len returns the number of tokens.
func (t *Tokens) Len() int { return len(t.entries) }

// NewToken returns a random 32-hex-digit token.
func NewToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}
