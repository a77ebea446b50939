package deskapi

// control.go: the local control socket through which `deskguard status`,
// `flatten`, `rearm`, `unlock`, `clear` and `press` reach a running desk. A
// Unix socket (mode 0600) carrying one JSON request and one JSON response per
// connection; every request carries a token checked against the desk's
// tokens, and roles are enforced here, on the server.

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
	"strings"
	"time"

	"github.com/deskguard/deskguard/auth"
)

// Request is one control command.
type Request struct {
	Token   string `json:"token"`
	Op      string `json:"op"` // status, flatten, rearm, unlock, clear, press, engines
	Account string `json:"account,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Run     bool   `json:"run,omitempty"`
}

// Response answers a Request.
type Response struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Who    string  `json:"who,omitempty"`
	Status *Status `json:"status,omitempty"`
}

// ControlServer serves a Desk on a Unix socket.
type ControlServer struct {
	Desk   Desk
	Tokens *auth.Tokens
	Log    *slog.Logger
	ln     net.Listener
}

// Listen binds the socket at path (removing a stale one) with mode 0600.
func (s *ControlServer) Listen(path string) error {
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
func (s *ControlServer) Serve(ctx context.Context) {
	go func() { <-ctx.Done(); s.ln.Close() }()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.handle(ctx, c)
	}
}

func (s *ControlServer) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var req Request
	dec := json.NewDecoder(io.LimitReader(c, 64<<10))
	dec.DisallowUnknownFields()
	var resp Response
	if err := dec.Decode(&req); err != nil {
		resp.Error = "bad request: " + err.Error()
	} else if rest, _ := io.ReadAll(dec.Buffered()); len(bytes.TrimSpace(rest)) > 0 {
		// One request per connection, one JSON value on one line: anything
		// after it that arrived with it (a second request smuggled in the
		// same write, padding) refuses the whole request.
		resp.Error = "bad request: data after the request"
	} else {
		resp = s.Do(ctx, req)
	}
	_ = json.NewEncoder(c).Encode(resp)
}

// Do authorizes and carries out one request (also used in tests).
func (s *ControlServer) Do(ctx context.Context, req Request) Response {
	p, err := s.Tokens.Check(req.Token)
	if err != nil {
		if s.Log != nil {
			s.Log.Warn("control: refused request", "op", req.Op, "err", err)
		}
		return Response{Error: err.Error()}
	}
	who := p.Name
	deny := func() Response {
		return Response{Who: who, Error: fmt.Sprintf("%s (%s) may not %s %s", who, p.Role, req.Op, req.Account)}
	}
	ctx = context.WithoutCancel(ctx) // a kill must never be lost to a closed connection
	switch req.Op {
	case "status":
		st := s.Desk.Status(ctx)
		if p.Role.Kind == "trader" {
			var mine []AccountStatus
			for _, a := range st.Accounts {
				if a.ID == p.Role.Account {
					mine = append(mine, a)
				}
			}
			st.Accounts = mine
		}
		return Response{OK: true, Who: who, Status: &st}
	case "flatten":
		if !p.Role.CanFlatten(req.Account) {
			return deny()
		}
		err = s.Desk.Flatten(ctx, req.Account, "cli", who)
	case "rearm":
		if !p.Role.CanManage() {
			return deny()
		}
		err = s.Desk.Rearm(ctx, who, req.Reason)
	case "unlock":
		if !p.Role.CanManage() {
			return deny()
		}
		if req.Reason == "" {
			return Response{Who: who, Error: ErrReasonRequired.Error()}
		}
		err = s.Desk.Unlock(ctx, req.Account, who, req.Reason)
	case "clear":
		if !p.Role.CanManage() {
			return deny()
		}
		if strings.TrimSpace(req.Reason) == "" {
			return Response{Who: who, Error: ErrReasonRequired.Error()}
		}
		if req.Account == "" {
			return Response{Who: who, Error: "an account is required"}
		}
		err = s.Desk.ClearFault(ctx, req.Account, who, req.Reason)
	case "press":
		if !p.Role.CanFlatten("") {
			return deny()
		}
		err = s.Desk.Press(ctx, who)
	case "engines":
		if !p.Role.CanRunEngines(req.Account) {
			return deny()
		}
		err = s.Desk.SetEngines(ctx, req.Account, req.Run, who)
	default:
		return Response{Who: who, Error: fmt.Sprintf("unknown op %q", req.Op)}
	}
	if err != nil {
		return Response{Who: who, Error: err.Error()}
	}
	return Response{OK: true, Who: who}
}

// Call sends one request to the control socket at path.
func Call(ctx context.Context, path string, req Request) (Response, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return Response{}, fmt.Errorf("control: is the desk running? %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, fmt.Errorf("control: send: %w", err)
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("control: read reply: %w", err)
	}
	if !resp.OK {
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}
