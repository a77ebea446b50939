package report

// csv.go: round trips from a CSV file: account,strategy,side,qty,entry,exit
// with prices in index points and an optional fees column (per contract per
// round turn; default $1.20).

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/market"
)

// ParseError is a bad line in a trades CSV.
type ParseError struct {
	File   string
	Line   int
	Column string
	Err    error
}

func (e *ParseError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("report: %s:%d: column %s: %v", e.File, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("report: %s:%d: %v", e.File, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

var required = []string{"account", "strategy", "side", "qty", "entry", "exit"}

// ReadTripsCSV reads round trips; name is used in errors.
func ReadTripsCSV(r io.Reader, name string) ([]Trip, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{File: name, Line: 1, Err: errors.New("empty file: want a header account,strategy,side,qty,entry,exit[,fees]")}
	}
	if err != nil {
		return nil, &ParseError{File: name, Line: 1, Err: err}
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, k := range required {
		if _, ok := col[k]; !ok {
			return nil, &ParseError{File: name, Line: 1, Err: fmt.Errorf("header lacks column %q (want account,strategy,side,qty,entry,exit[,fees])", k)}
		}
	}
	fi, hasFees := col["fees"]
	defFees := market.MES().FeesRT
	var out []Trip
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, &ParseError{File: name, Line: line, Err: err}
		}
		get := func(k string) string {
			i := col[k]
			if i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		bad := func(c string, err error) error { return &ParseError{File: name, Line: line, Column: c, Err: err} }
		t := Trip{Account: get("account"), Strategy: get("strategy")}
		if t.Account == "" {
			return nil, bad("account", errors.New("empty"))
		}
		switch strings.ToLower(get("side")) {
		case "long", "buy", "b":
			t.Side = market.Buy
		case "short", "sell", "s":
			t.Side = market.Sell
		default:
			return nil, bad("side", fmt.Errorf("%q: want long or short", get("side")))
		}
		q, err := strconv.ParseInt(get("qty"), 10, 64)
		if err != nil || q <= 0 || q > 1_000_000 {
			return nil, bad("qty", fmt.Errorf("%q: want a positive whole number of contracts", get("qty")))
		}
		t.Qty = q
		if t.Entry, err = market.ParsePrice(get("entry")); err != nil {
			return nil, bad("entry", err)
		}
		if t.Exit, err = market.ParsePrice(get("exit")); err != nil {
			return nil, bad("exit", err)
		}
		if t.Entry <= 0 || t.Exit <= 0 {
			return nil, bad("entry", errors.New("prices must be positive"))
		}
		fee := defFees
		if hasFees && fi < len(rec) && strings.TrimSpace(rec[fi]) != "" {
			fee, err = decimal.NewFromString(strings.TrimSpace(rec[fi]))
			if err != nil || fee.IsNegative() {
				return nil, bad("fees", fmt.Errorf("%q: want a non-negative amount per contract per round turn", rec[fi]))
			}
		}
		t.TickQty = int64(t.Exit-t.Entry) * t.Side.Sign() * q
		t.Fees = fee.Mul(decimal.NewFromInt(q))
		t.ExitTime = int64(len(out)) // keeps file order for the drawdown
		out = append(out, t)
	}
	return out, nil
}
