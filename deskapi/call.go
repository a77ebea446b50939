package deskapi

// call.go: the control socket's wire types and its client. The server is
// package control; these are plain types so the CLI, the drill and tests
// can speak to a running desk without importing it.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
)

// Request is one control command.
type Request struct {
	Token   string `json:"token"`
	Op      string `json:"op"` // status, flatten, rearm, unlock, unlock_desk, clear, press, engines
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
	// Flatten is a flatten's answer (op flatten, when the desk gives one).
	Flatten *FlattenAnswer `json:"flatten,omitempty"`
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
