// Package control is the desk's local control socket: the Unix socket
// through which `deskguard status`, `flatten`, `rearm`, `unlock` (an
// account's lockout, or the desk's: op unlock_desk), `clear`,
// `reset-trailing`, `press`, `journal tail`, `journal backup` and the drill
// reach a running desk. One JSON request (deskapi.Request) and one JSON
// response (deskapi.Response) per connection — except a followed journal
// tail, one response per commit until either side closes; the socket is
// mode 0600, every request carries a token
// checked against the desk's tokens (auth), and what the token's role may
// do and see is decided by authz, the same rules as the console and Slack.
// It reaches the desk only through deskapi.Desk. The client side is
// deskapi.Call.
//
// It may touch auth, authz and deskapi, the Unix socket path it is given
// and, through the Journal it is handed, the desk's journal (a read
// transaction's copy for a backup; reads for a tail); it never imports the
// supervisor or the journal package.
package control

// control.go: Listen, Serve and Do.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/authz"
	"github.com/deskguard/deskguard/deskapi"
)

// maxRequest bounds one request.
const maxRequest = 64 << 10

// connDeadline bounds one connection: a client that sends nothing (or
// never reads its answer) is cut off.
const connDeadline = 30 * time.Second

// Trigger is the trigger the control socket passes to Desk.Flatten.
const Trigger = "cli"

// Server serves a Desk on a Unix socket.
type Server struct {
	Desk   deskapi.Desk
	Tokens *auth.Tokens
	Log    *slog.Logger
	// Logins, when set, limits failed token checks per peer (its uid, from
	// SO_PEERCRED): while a peer must wait its requests are refused
	// without their token being checked. `deskguard run` sets it from the
	// console's login_burst, login_backoff and login_backoff_max.
	Logins *auth.Limiter
	// Journal serves journal_tail and journal_backup (nil: refused).
	Journal Journal
	ln      net.Listener
}

// Journal is the desk's journal as the control socket serves it; `deskguard
// run` hands in its open journal.
type Journal interface {
	// Backup writes a consistent copy of the journal to path, a file it
	// creates (never one that exists), while appends go on.
	Backup(path string) (int64, error)
	// Last is the sequence of the last durable record (0: none).
	Last() (uint64, error)
	// After returns up to max records after seq, in the journal's JSON
	// form, and the seq of the last one (seq when there are none).
	After(seq uint64, max int) ([]json.RawMessage, uint64, error)
	// Commits signals after one or more commits; stop ends it.
	Commits() (c <-chan struct{}, stop func())
	// Path is the journal's file, as the desk opened it.
	Path() string
}

// Tail bounds: the default and largest count of a tail, and the most
// records one response carries.
const (
	DefaultTail = 20
	MaxTail     = 10000
	maxBatch    = 500
)

// Listen binds the socket at path (removing a stale one) with mode 0600.
func (s *Server) Listen(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return fmt.Errorf("control: %s: another desk is listening", path)
		}
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control: listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control: chmod %s: %w", path, err)
	}
	s.ln = ln
	return nil
}

// Serve accepts connections until ctx ends.
func (s *Server) Serve(ctx context.Context) {
	go func() { <-ctx.Done(); s.ln.Close() }()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.handle(ctx, c)
	}
}

func (s *Server) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(connDeadline))
	var req deskapi.Request
	dec := json.NewDecoder(io.LimitReader(c, maxRequest))
	dec.DisallowUnknownFields()
	var resp deskapi.Response
	if err := dec.Decode(&req); err != nil {
		resp.Error = "bad request: " + err.Error()
	} else if rest, _ := io.ReadAll(dec.Buffered()); len(bytes.TrimSpace(rest)) > 0 {
		// One request per connection, one JSON value on one line: anything
		// after it that arrived with it (a second request smuggled in the
		// same write, padding) refuses the whole request.
		resp.Error = "bad request: data after the request"
	} else if req.Op == string(authz.JournalTail) && req.Follow {
		s.follow(ctx, c, peerKey(c), req)
		return
	} else {
		resp = s.doLimited(ctx, peerKey(c), req)
	}
	_ = json.NewEncoder(c).Encode(resp)
}

// peerKey is the login limiter's key for c: the peer's uid (the socket is
// mode 0600, so it is the desk's own user or root), or "unknown".
func peerKey(c net.Conn) string {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return "unknown"
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return "unknown"
	}
	key := "unknown"
	_ = raw.Control(func(fd uintptr) {
		if cred, err := syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED); err == nil {
			key = "uid:" + strconv.FormatUint(uint64(cred.Uid), 10)
		}
	})
	return key
}

// doLimited is Do under the login limiter for peer key.
func (s *Server) doLimited(ctx context.Context, key string, req deskapi.Request) deskapi.Response {
	if refused, ok := s.limit(key, req); !ok {
		return refused
	}
	return s.Do(ctx, req)
}

// limit applies the login limiter for peer key: a refusal while the peer
// must wait, else ok (and a good token clears the peer).
func (s *Server) limit(key string, req deskapi.Request) (deskapi.Response, bool) {
	if s.Logins == nil {
		return deskapi.Response{}, true
	}
	if w := s.Logins.Attempt(key); w > 0 {
		s.warn("control: refused request (limited)", "op", req.Op, "peer", key, "wait", w)
		return deskapi.Response{Error: fmt.Sprintf("too many failed tokens from %s: try again in %s", key, w.Round(time.Second))}, false
	}
	if _, err := s.Tokens.Check(req.Token); err == nil {
		s.Logins.Succeed(key)
	}
	return deskapi.Response{}, true
}

// Do authorizes and carries out one request (also used in tests).
func (s *Server) Do(ctx context.Context, req deskapi.Request) deskapi.Response {
	p, err := s.Tokens.Check(req.Token)
	if err != nil {
		s.warn("control: refused request", "op", req.Op, "err", err)
		return deskapi.Response{Error: err.Error()}
	}
	who := p.Name
	act := authz.Act(req.Op)
	known := false
	for _, a := range authz.Acts {
		known = known || a == act
	}
	if !known {
		return deskapi.Response{Who: who, Error: fmt.Sprintf("unknown op %q", req.Op)}
	}
	why := ""
	if authz.NeedsReason(act) {
		why = req.Reason
	}
	why, err = authz.Check(p.Role, act, req.Account, why)
	if err != nil {
		if errors.Is(err, authz.ErrForbidden) {
			s.warn("control: forbidden", "op", req.Op, "account", req.Account, "who", who, "role", p.Role.String())
			return deskapi.Response{Who: who, Error: fmt.Sprintf("%s (%s)", who, err)}
		}
		return deskapi.Response{Who: who, Error: err.Error()}
	}
	ctx = context.WithoutCancel(ctx) // a kill must never be lost to a closed connection
	switch act {
	case authz.Status:
		st := authz.StatusFor(p.Role, s.Desk.Status(ctx))
		return deskapi.Response{OK: true, Who: who, Status: &st}
	case authz.Flatten:
		// Answered at once with what the kill has set in motion, when the
		// desk can say (a venue that does not answer leaves no caller
		// without an answer, issue 25.6).
		if ad, ok := s.Desk.(deskapi.AnsweringDesk); ok {
			fa, err := ad.FlattenAnswered(ctx, req.Account, Trigger, who)
			if err != nil {
				return deskapi.Response{Who: who, Error: err.Error()}
			}
			return deskapi.Response{OK: true, Who: who, Flatten: &fa}
		}
		err = s.Desk.Flatten(ctx, req.Account, Trigger, who)
	case authz.Rearm:
		err = s.Desk.Rearm(ctx, who, why)
	case authz.Unlock:
		err = s.Desk.Unlock(ctx, req.Account, who, why)
	case authz.UnlockDesk:
		if req.Account != "" {
			return deskapi.Response{Who: who, Error: "unlock_desk lifts the desk's lockout: it takes no account (unlock ACCOUNT lifts an account's)"}
		}
		err = s.Desk.Unlock(ctx, "", who, why)
	case authz.Clear:
		err = s.Desk.ClearFault(ctx, req.Account, who, why)
	case authz.ResetTrailing:
		err = s.Desk.ResetTrailing(ctx, req.Account, who, why)
	case authz.Press:
		err = s.Desk.Press(ctx, who)
	case authz.Engines:
		err = s.Desk.SetEngines(ctx, req.Account, req.Run, who)
	case authz.JournalTail:
		return s.tail(req, who)
	case authz.JournalBackup:
		return s.backup(req, who)
	}
	if err != nil {
		return deskapi.Response{Who: who, Error: err.Error()}
	}
	return deskapi.Response{OK: true, Who: who}
}

func (s *Server) warn(msg string, args ...any) {
	if s.Log != nil {
		s.Log.Warn(msg, args...)
	}
}

// tail answers journal_tail: the records after req.After, or the last
// req.Count of them.
func (s *Server) tail(req deskapi.Request, who string) deskapi.Response {
	if s.Journal == nil {
		return deskapi.Response{Who: who, Error: "control: this desk serves no journal"}
	}
	after, err := s.tailStart(req)
	if err != nil {
		return deskapi.Response{Who: who, Error: err.Error()}
	}
	recs, last, err := s.Journal.After(after, MaxTail)
	if err != nil {
		return deskapi.Response{Who: who, Error: fmt.Sprintf("control: journal tail: %v", err)}
	}
	return deskapi.Response{OK: true, Who: who, Records: recs, Seq: last}
}

// tailStart is the seq a tail reads after.
func (s *Server) tailStart(req deskapi.Request) (uint64, error) {
	if req.After > 0 {
		return req.After, nil
	}
	n := req.Count
	if n <= 0 {
		n = DefaultTail
	}
	if n > MaxTail {
		return 0, fmt.Errorf("control: journal tail: count %d: at most %d (use --after to read on)", n, MaxTail)
	}
	last, err := s.Journal.Last()
	if err != nil {
		return 0, fmt.Errorf("control: journal tail: %w", err)
	}
	if last <= uint64(n) {
		return 0, nil
	}
	return last - uint64(n), nil
}

// backup answers journal_backup: a consistent copy written by the desk to
// req.To, an absolute path to a file that does not exist yet.
func (s *Server) backup(req deskapi.Request, who string) deskapi.Response {
	if s.Journal == nil {
		return deskapi.Response{Who: who, Error: "control: this desk serves no journal"}
	}
	if req.To == "" || !filepath.IsAbs(req.To) {
		return deskapi.Response{Who: who, Error: fmt.Sprintf("control: journal backup: %q: want an absolute path to a new file", req.To)}
	}
	n, err := s.Journal.Backup(filepath.Clean(req.To))
	if err != nil {
		return deskapi.Response{Who: who, Error: err.Error()}
	}
	if s.Log != nil {
		s.Log.Info("control: journal backup", "who", who, "to", req.To, "bytes", n)
	}
	return deskapi.Response{OK: true, Who: who, Bytes: n, Journal: s.Journal.Path()}
}

// followWrite bounds one write of a followed tail: a reader that does not
// take its records within it is cut off (the journal never waits on it).
const followWrite = 10 * time.Second

// follow serves a followed journal tail on c: the first batch as tail
// would, then one response per commit, until the peer closes, a write
// times out or ctx ends.
func (s *Server) follow(ctx context.Context, c net.Conn, key string, req deskapi.Request) {
	enc := json.NewEncoder(c)
	send := func(r deskapi.Response) error {
		_ = c.SetWriteDeadline(time.Now().Add(followWrite))
		return enc.Encode(r)
	}
	if refused, ok := s.limit(key, req); !ok {
		_ = send(refused)
		return
	}
	p, err := s.Tokens.Check(req.Token)
	if err != nil {
		s.warn("control: refused request", "op", req.Op, "err", err)
		_ = send(deskapi.Response{Error: err.Error()})
		return
	}
	if _, err := authz.Check(p.Role, authz.JournalTail, "", ""); err != nil {
		s.warn("control: forbidden", "op", req.Op, "who", p.Name, "role", p.Role.String())
		_ = send(deskapi.Response{Who: p.Name, Error: fmt.Sprintf("%s (%s)", p.Name, err)})
		return
	}
	if s.Journal == nil {
		_ = send(deskapi.Response{Who: p.Name, Error: "control: this desk serves no journal"})
		return
	}
	// Subscribe before the first read: a commit between them is not missed.
	commits, stop := s.Journal.Commits()
	defer stop()
	after, err := s.tailStart(req)
	if err != nil {
		_ = send(deskapi.Response{Who: p.Name, Error: err.Error()})
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	gone := make(chan struct{})
	go func() { // the peer sends nothing more: a read returns when it closes
		defer close(gone)
		_, _ = io.Copy(io.Discard, c)
	}()
	first := true
	for {
		for {
			recs, last, err := s.Journal.After(after, maxBatch)
			if err != nil {
				_ = send(deskapi.Response{Who: p.Name, Error: fmt.Sprintf("control: journal tail: %v", err)})
				return
			}
			if len(recs) == 0 && !first {
				break
			}
			first = false
			if err := send(deskapi.Response{OK: true, Who: p.Name, Records: recs, Seq: last}); err != nil {
				return
			}
			after = last
			if len(recs) < maxBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-gone:
			return
		case <-commits:
		}
	}
}
