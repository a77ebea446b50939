// record.go: the venue's record of every order placement it received —
// placeorder, placeoso (entry and both brackets), placeoco — with the
// client order id, the account and what the venue made of it, kept in
// memory (Placements) and, when RecordTo is set, written as one JSON line
// per order as it happens (`deskguard venue --record FILE`). A test that
// runs the venue as its own process reads the file to check, from the
// venue's side, that no client order id was placed twice and that every
// order the venue took was journaled by the desk first.

package venue

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
)

// Placement is one order of one placement request.
type Placement struct {
	Seq     int    `json:"seq"`     // 1, 2, ... in the order the venue received them
	Op      string `json:"op"`      // placeorder, placeoso, placeoco
	Role    string `json:"role"`    // single, entry, stop, target, other
	Account string `json:"account"` // accountSpec as sent ("" when only accountId was)
	ClOrdID string `json:"clOrdId"`
	Status  int    `json:"status"`            // the HTTP status of the answer
	OrderID int64  `json:"orderId,omitempty"` // the venue's id when the order exists after the request
	Failure string `json:"failure,omitempty"` // failureText when the venue refused it
	// Again is true when this client order id had been placed before: the
	// venue answered with the existing order (an idempotent retry) or
	// refused it.
	Again bool `json:"again,omitempty"`
}

type recorder struct {
	mu   sync.Mutex
	all  []Placement
	seen map[string]bool
	w    io.Writer
	werr error
}

// RecordTo writes every placement from now on to w as a JSON line (one
// Write per line). Call before Serve.
func (v *Venue) RecordTo(w io.Writer) {
	v.rec.mu.Lock()
	v.rec.w = w
	v.rec.mu.Unlock()
}

// Placements returns every placement so far, in order.
func (v *Venue) Placements() []Placement {
	v.rec.mu.Lock()
	defer v.rec.mu.Unlock()
	return append([]Placement(nil), v.rec.all...)
}

// RecordErr is the first error writing the record, if any.
func (v *Venue) RecordErr() error {
	v.rec.mu.Lock()
	defer v.rec.mu.Unlock()
	return v.rec.werr
}

// recorded wraps a placement handler: after it answered, each order of the
// request is recorded with what became of it.
func (v *Venue) recorded(op string, h func(*http.Request, []byte) (int, any)) func(*http.Request, []byte) (int, any) {
	return func(r *http.Request, body []byte) (int, any) {
		status, out := h(r, body)
		var req orderReq
		if decode(body, &req) != nil {
			return status, out
		}
		res, _ := out.(placeResult)
		type leg struct {
			role string
			o    *orderReq
			id   int64
		}
		legs := []leg{{"single", &req, res.OrderID}}
		switch op {
		case "placeoso":
			legs = []leg{{"entry", &req, res.OrderID}, {"stop", req.Bracket1, res.OSO1ID}, {"target", req.Bracket2, res.OSO2ID}}
		case "placeoco":
			legs = []leg{{"single", &req, res.OrderID}, {"other", req.Other, res.OCOID}}
		}
		v.rec.mu.Lock()
		defer v.rec.mu.Unlock()
		if v.rec.seen == nil {
			v.rec.seen = map[string]bool{}
		}
		for _, l := range legs {
			if l.o == nil {
				continue
			}
			p := Placement{Seq: len(v.rec.all) + 1, Op: op, Role: l.role, Account: req.AccountSpec, ClOrdID: l.o.ClOrdID,
				Status: status, OrderID: l.id, Failure: res.FailureText}
			k := p.Account + "\x00" + p.ClOrdID
			p.Again = p.ClOrdID != "" && v.rec.seen[k]
			v.rec.seen[k] = true
			v.rec.all = append(v.rec.all, p)
			if v.rec.w != nil && v.rec.werr == nil {
				b, _ := json.Marshal(p)
				_, v.rec.werr = v.rec.w.Write(append(b, '\n'))
			}
		}
		return status, out
	}
}
