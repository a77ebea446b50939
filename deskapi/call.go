package deskapi

// call.go: the control socket's wire types and its client. The server is
// package control; these are plain types so the CLI, the drill and tests
// can speak to a running desk without importing it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
)

// Request is one control command.
type Request struct {
	Token   string `json:"token"`
	Op      string `json:"op"` // status, flatten, rearm, unlock, unlock_desk, clear, reset_trailing, press, engines, journal_tail, journal_backup
	Account string `json:"account,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Run     bool   `json:"run,omitempty"`
	// journal_backup: the new file the desk writes its copy to (an
	// absolute path that does not exist yet).
	To string `json:"to,omitempty"`
	// journal_tail: the records after seq After, or (After 0) the last
	// Count records (default 20); Follow keeps the connection open and
	// sends a Response for every commit after them.
	After  uint64 `json:"after,omitempty"`
	Count  int    `json:"count,omitempty"`
	Follow bool   `json:"follow,omitempty"`
}

// Response answers a Request.
type Response struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Who    string  `json:"who,omitempty"`
	Status *Status `json:"status,omitempty"`
	// Flatten is a flatten's answer (op flatten, when the desk gives one).
	Flatten *FlattenAnswer `json:"flatten,omitempty"`
	// Records are journal records in the journal's JSON form (what
	// `deskguard journal dump --json` prints), Seq the last one sent.
	Records []json.RawMessage `json:"records,omitempty"`
	Seq     uint64            `json:"seq,omitempty"`
	// Bytes is the size of a backup written, Journal the file it copied.
	Bytes   int64  `json:"bytes,omitempty"`
	Journal string `json:"journal,omitempty"`
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

// Stream sends one request whose answer is a stream (journal_tail with
// Follow) and calls fn with each Response until fn returns an error (then
// Stream returns it; ErrStop ends it without one), the desk closes the
// connection or ctx ends.
func Stream(ctx context.Context, path string, req Request, fn func(Response) error) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("control: is the desk running? %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return fmt.Errorf("control: send: %w", err)
	}
	dec := json.NewDecoder(c)
	for {
		var resp Response
		if err := dec.Decode(&resp); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("control: read: %w", err)
		}
		if !resp.OK {
			return errors.New(resp.Error)
		}
		if err := fn(resp); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
}

// ErrStop ends a Stream without an error.
var ErrStop = errors.New("stop")
