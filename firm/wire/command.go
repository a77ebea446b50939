package wire

// command.go: the firm command (a kill), signed with the firm's ed25519 key
// and checked by each desk with the firm's public key: a bad signature, a
// command for another desk, one issued too long ago (or too far ahead of
// the desk's clock) and one whose id the desk has already seen are all
// refused. ed25519 is RFC 8032 (crypto/ed25519); a desk holds only the
// public key, so no desk can forge a firm command.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Command ops.
const (
	OpKill = "kill" // flatten the whole desk (kill trigger "firm") and reply when flat
)

// Command is one firm command to one desk. The firm re-issues a kill that
// a desk has not confirmed flat as a new Command (new ID, new Issued) with
// the same KillID, so a desk that was partitioned acts on it when it hears
// again, while a captured message replayed later is stale or seen.
type Command struct {
	ID     string `json:"id"`      // unique per message (replay check)
	KillID string `json:"kill_id"` // the firm kill it belongs to
	Desk   string `json:"desk"`
	Op     string `json:"op"`
	Who    string `json:"who"`    // the firm principal or limit that asked
	Reason string `json:"reason"` // why (a limit breach, the firm manager's words)
	Issued int64  `json:"issued"` // firm wall clock, ns UTC
	Sig    string `json:"sig,omitempty"`
}

// signed is the byte string the signature covers: every field but Sig, in
// a fixed order, length-prefixed so no two commands share it.
func (c Command) signed() []byte {
	var b strings.Builder
	b.WriteString("deskguard-firm-command-v1\n")
	for _, f := range []string{c.ID, c.KillID, c.Desk, c.Op, c.Who, c.Reason, fmt.Sprint(c.Issued)} {
		fmt.Fprintf(&b, "%d:%s\n", len(f), f)
	}
	return []byte(b.String())
}

// Sign sets c.Sig with key.
func (c *Command) Sign(key ed25519.PrivateKey) {
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.signed()))
}

// Errors a desk refuses a command with (and says in its reply).
var (
	ErrBadSignature = errors.New("firm command: bad signature")
	ErrWrongDesk    = errors.New("firm command: for another desk")
	ErrStale        = errors.New("firm command: stale")
	ErrReplayed     = errors.New("firm command: replayed")
	ErrBadCommand   = errors.New("firm command: malformed")
)

// Verifier checks commands for one desk. Safe for concurrent use.
type Verifier struct {
	Desk   string
	Key    ed25519.PublicKey
	MaxAge time.Duration // how old (or how far ahead) Issued may be; default 30s

	mu   sync.Mutex
	seen map[string]int64 // command id → issued, kept for 2 × MaxAge
}

// Check verifies c at now and records its id. A command passes once.
func (v *Verifier) Check(c Command, now time.Time) error {
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = 30 * time.Second
	}
	if c.ID == "" || c.KillID == "" || c.Op != OpKill {
		return fmt.Errorf("%w: id %q kill %q op %q", ErrBadCommand, c.ID, c.KillID, c.Op)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	if err != nil || len(v.Key) != ed25519.PublicKeySize || !ed25519.Verify(v.Key, c.signed(), sig) {
		return ErrBadSignature
	}
	if c.Desk != v.Desk {
		return fmt.Errorf("%w: %q, this desk is %q", ErrWrongDesk, c.Desk, v.Desk)
	}
	age := now.Sub(time.Unix(0, c.Issued))
	if age > maxAge || age < -maxAge {
		return fmt.Errorf("%w: issued %s ago (at most %s either way)", ErrStale, age.Round(time.Millisecond), maxAge)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]int64{}
	}
	if _, ok := v.seen[c.ID]; ok {
		return fmt.Errorf("%w: id %s", ErrReplayed, c.ID)
	}
	// Forget ids that can no longer pass the age check anyway.
	for id, at := range v.seen {
		if now.Sub(time.Unix(0, at)) > 2*maxAge {
			delete(v.seen, id)
		}
	}
	v.seen[c.ID] = c.Issued
	return nil
}

// Reply is a desk's answer to a command.
type Reply struct {
	Desk    string `json:"desk"`
	CmdID   string `json:"cmd_id"`
	KillID  string `json:"kill_id"`
	OK      bool   `json:"ok"`              // accepted and acted on
	Error   string `json:"error,omitempty"` // why it was refused
	Flat    bool   `json:"flat"`            // every account flat with nothing working, desk halted
	State   string `json:"state,omitempty"` // the desk's state machine
	Open    int64  `json:"open,omitempty"`  // Σ |position| still open when not flat
	Working int    `json:"working,omitempty"`
	Repeat  bool   `json:"repeat,omitempty"` // this kill id had already been acted on
	Time    int64  `json:"time"`             // desk wall clock, ns UTC
}

// Marshal is json.Marshal for the wire types (they always marshal).
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{}`)
	}
	return b
}

// GenerateKey writes a new ed25519 key pair: the private key (its 32-byte
// seed, base64) to privPath with mode 0600, refusing to overwrite, and the
// public key (base64) to pubPath.
func GenerateKey(privPath, pubPath string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("firm: key: %w", err)
	}
	f, err := os.OpenFile(privPath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("firm: key: %w", err)
	}
	_, err = f.WriteString(privLabel + base64.StdEncoding.EncodeToString(priv.Seed()) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("firm: key %s: %w", privPath, err)
	}
	if err := os.WriteFile(pubPath, []byte(pubLabel+base64.StdEncoding.EncodeToString(pub)+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("firm: key %s: %w", pubPath, err)
	}
	return pub, nil
}

// LoadPrivateKey reads a key GenerateKey wrote. The file must not be
// readable by group or others.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("firm: command key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("firm: command key %s: mode %o lets others read it (chmod 600)", path, fi.Mode().Perm())
	}
	seed, err := readB64(path, privLabel, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// LoadPublicKey reads a public key GenerateKey wrote.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := readB64(path, pubLabel, ed25519.PublicKeySize)
	return ed25519.PublicKey(b), err
}

// Key file labels: a private key and a public key are both 32 bytes, so
// the label is what keeps one from being read as the other.
const (
	privLabel = "deskguard-firm-private-key "
	pubLabel  = "deskguard-firm-public-key "
)

func readB64(path, label string, size int) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("firm: key: %w", err)
	}
	if len(raw) > 1024 {
		return nil, fmt.Errorf("firm: key %s: too large to be a key", path)
	}
	text, ok := strings.CutPrefix(strings.TrimSpace(string(raw)), label)
	if !ok {
		return nil, fmt.Errorf("firm: key %s: does not start with %q", path, strings.TrimSpace(label))
	}
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(b) != size {
		return nil, fmt.Errorf("firm: key %s: not a base64 ed25519 key of %d bytes", path, size)
	}
	return b, nil
}
