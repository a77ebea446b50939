package main

// rithmic_wiring.go: the desk on R|Protocol — [broker] kind = "rithmic"
// (Rithmic, or `deskguard venue --protocol rithmic`: orders on the order
// plant, positions on the PnL plant, trades with their aggressor on the
// ticker plant), [data] kind = "rithmic" (the trades from Rithmic's ticker
// plant whatever the broker: execution on Tradovate, data from Rithmic),
// and `deskguard venue --protocol rithmic`.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/deskguard/deskguard/broker/rithmic"
	rvenue "github.com/deskguard/deskguard/broker/venue/rithmic"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/market"
)

// rithmicConfig reads [broker.rithmic] and the password it names.
func rithmicConfig(c *config.Config) (rithmic.Config, rithmic.Credentials, error) {
	var rc rithmic.Config
	if err := c.Decode("broker.rithmic", &rc); err != nil {
		return rc, rithmic.Credentials{}, err
	}
	if rc.User == "" {
		return rc, rithmic.Credentials{}, errors.New("rithmic needs [broker.rithmic] user (and its password in password_env or password_file)")
	}
	creds, err := rithmic.LoadCredentials(rc, os.Getenv)
	return rc.WithDefaults(), creds, err
}

// openRithmic connects the desk to an R|Protocol gateway: the client (order
// and PnL plants) and its feed (ticker plant), which also gives the client
// the last price a market entry's bracket is placed from.
func openRithmic(ctx context.Context, c *config.Config, log *slog.Logger) (*brokerParts, error) {
	rc, creds, err := rithmicConfig(c)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	opt := rithmic.Options{Log: log.With("part", "rithmic")}
	cl, err := rithmic.Dial(dctx, rc, creds, opt)
	if err != nil {
		return nil, fmt.Errorf("connect to rithmic: %w", err)
	}
	f, err := cl.Feed(dctx)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("rithmic market data: %w", err)
	}
	return &brokerParts{br: cl, feed: &sessionFeed{f: f, idle: 3 * time.Second},
		status: func() string { return upDown(cl.Connected()) }, data: func() string { return upDown(f.Subscribed()) },
		close: func() { f.Close(); cl.Close() }, outlives: true,
		what: fmt.Sprintf("rithmic %s (%s, %s)", rc.URL, rc.SystemName, cl.Symbol())}, nil
}

// openBrokerAndData is openBroker, then [data] kind: with "rithmic" the
// desk's trades come from the Rithmic ticker plant of [broker.rithmic]
// whatever the broker (the broker's own market data, if any, is closed).
func openBrokerAndData(ctx context.Context, c *config.Config, ids []string, log *slog.Logger) (*brokerParts, error) {
	bp, err := openBroker(ctx, c, ids, log)
	if err != nil || c.Data.Kind != "rithmic" || c.Broker.Kind == "rithmic" {
		return bp, err
	}
	rc, creds, err := rithmicConfig(c)
	if err != nil {
		bp.close()
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	f, err := rithmic.NewFeed(dctx, rc, creds, rithmic.Options{Log: log.With("part", "rithmic-data")})
	if err != nil {
		bp.close()
		return nil, fmt.Errorf("rithmic market data: %w", err)
	}
	if sf, ok := bp.feed.(*sessionFeed); ok {
		if cl, ok := sf.f.(interface{ Close() error }); ok {
			_ = cl.Close() // the broker's own market data is not used
		}
	}
	inner := bp.close
	bp.feed = &sessionFeed{f: f, idle: 3 * time.Second}
	bp.data = func() string { return upDown(f.Subscribed()) }
	bp.close = func() { f.Close(); inner() }
	bp.what += fmt.Sprintf(", market data from rithmic %s (%s)", rc.URL, f.Symbol())
	return bp, nil
}

// serveRithmicVenue is `deskguard venue --protocol rithmic`.
func serveRithmicVenue(e *env, listen string, accts []string, user, pw, contract string, pace float64, wait bool,
	feed market.TradeReader, log *slog.Logger) int {
	v, err := rvenue.New(rvenue.Config{Accounts: accts, User: user, Password: pw, Symbol: contract, Root: productOf(contract),
		Pace: pace, WaitForSubscribe: wait}, feed, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: %v\n", err)
		return 2
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: --listen %q: %v\n", listen, err)
		return 2
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(e.stderr, "deskguard venue: refusing to listen on %s: loopback only\n", host)
		return 2
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "deskguard venue: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- v.Serve(ctx, ln) }()
	<-v.Ready()
	fmt.Fprintf(e.stdout, "venue: %s\n", v.URL())
	fmt.Fprintf(e.stdout, "protocol: rithmic (R|Protocol over plain ws on loopback)\nsystem: %s\n", v.SystemName())
	fmt.Fprintf(e.stdout, "accounts: %s  contract: %s  pace: %gx\n", strings.Join(accts, ","), contract, pace)
	fmt.Fprintf(e.stdout, "connect with [broker.rithmic] url = %q, system_name = %q, user = %q, symbol = %q, and RITHMIC_PASSWORD set to the demo password\n",
		v.URL(), v.SystemName(), user, contract)
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(e.stderr, "deskguard venue: %v\n", err)
		return 1
	}
	return 0
}

// productOf is a contract's product code: MESZ5 → MES (the month letter
// before the year digits goes too); a product code stays as it is.
func productOf(contract string) string {
	s := strings.TrimRight(contract, "0123456789")
	if s == contract || len(s) < 2 {
		return contract
	}
	return s[:len(s)-1]
}
