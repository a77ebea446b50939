package main

// venue_wiring.go: the desk's venue over the Tradovate protocol — a local
// venue child process started by the desk (broker kind "venue"), or an
// already running venue or a real Tradovate environment (kind
// "tradovate", [broker.tradovate]).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deskguard/deskguard/broker"
	"github.com/deskguard/deskguard/broker/sim"
	"github.com/deskguard/deskguard/broker/tradovate"
	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/market"
)

// brokerParts is the venue connection as `run` uses it.
type brokerParts struct {
	br      broker.Broker
	matcher interface{ OnTrade(market.Trade) } // an in-process sim the feed must drive
	feed    market.TradeReader                 // the venue's market data (nil: the local feed)
	status  func() string                      // the venue link: "up", "down", "sim"
	data    func() string                      // the market-data link: "up", "down"
	// notes are what the connector cannot fix on its own, for status
	// (Status.Links.Notes): a captcha demanded, market data that had a gap
	// (nil: none).
	notes func() []string
	close func()
	// outlives: the venue outlives the desk (Tradovate, Rithmic, a venue
	// process of its own): it holds the desk's positions and orders across
	// a restart of the desk, and it is live. A built-in venue (kind "sim",
	// or "venue", the child process) starts and stops with the desk and
	// replays data. Either way the desk recovers from its journal and
	// reconciles with the venue (a new built-in venue knows nothing: what
	// the journal holds open is a mismatch, journaled and alerted).
	outlives bool
	what     string
	// feedFailed says why, once, when the venue child's data failed
	// mid-replay (nil: no such report from this venue).
	feedFailed <-chan string
}

func openBroker(ctx context.Context, c *config.Config, ids []string, log *slog.Logger) (*brokerParts, error) {
	switch c.Broker.Kind {
	case "sim":
		s, err := sim.New(sim.Config{Accounts: ids})
		if err != nil {
			return nil, err
		}
		return &brokerParts{br: s, matcher: s, status: func() string { return "sim" }, data: func() string { return "up" }, close: func() { s.Close() }}, nil
	case "venue":
		return startVenueChild(ctx, c, ids, log)
	case "tradovate":
		var tc tradovate.Config
		if err := c.Decode("broker.tradovate", &tc); err != nil {
			return nil, err
		}
		if c.Broker.URL != "" && tc.BaseURL == "" {
			tc.BaseURL = c.Broker.URL
		}
		if tc.Symbol == "" && !loopbackURL(tc.BaseURL) {
			// A real environment: the front month of the session now, not a fixed
			// symbol. (A local `deskguard venue` serves its --contract,
			// which the connector's default matches.)
			sym, err := deskContract(c, time.Now())
			if err != nil {
				return nil, err
			}
			tc.Symbol = sym.String()
		}
		if tc.BaseURL == "" {
			return nil, errors.New("broker kind \"tradovate\" needs [broker.tradovate] base_url (or broker.url)")
		}
		creds, err := tradovate.LoadCredentials(tc, os.Getenv)
		if err != nil {
			return nil, err
		}
		p, err := dialVenue(ctx, tc, creds, log)
		if err != nil {
			return nil, err
		}
		p.outlives = true
		p.what = tc.Symbol + " at the venue " + tc.BaseURL
		return p, nil
	case "rithmic":
		return openRithmic(ctx, c, log)
	}
	return nil, fmt.Errorf("broker kind %q", c.Broker.Kind)
}

func dialVenue(ctx context.Context, tc tradovate.Config, creds tradovate.Credentials, log *slog.Logger) (*brokerParts, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := tradovate.Dial(dctx, tc, creds, tradovate.Options{Log: log.With("part", "tradovate")})
	if err != nil {
		return nil, fmt.Errorf("connect to the venue: %w", err)
	}
	f, err := cl.Feed(ctx)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("market data: %w", err)
	}
	return &brokerParts{br: cl, feed: &sessionFeed{f: f, idle: 3 * time.Second},
		status: func() string { return upDown(cl.Connected()) }, data: func() string { return upDown(f.Subscribed()) },
		notes: func() []string { return linkNotes(cl, f) },
		close: func() { f.Close(); cl.Close() }}, nil
}

// startVenueChild starts `deskguard venue` on a free loopback port with the
// desk's data and accounts, and connects to it over the Tradovate protocol.
func startVenueChild(ctx context.Context, c *config.Config, ids []string, log *slog.Logger) (*brokerParts, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	sym, err := deskContract(c, time.Now()) // the session's front month
	if err != nil {
		return nil, err
	}
	args := []string{"venue", "--listen", "127.0.0.1:0", "--pace", strconv.FormatFloat(c.Data.Pace, 'f', -1, 64),
		"--accounts", strings.Join(ids, ","), "--wait-for-chart", "--contract", sym.String()}
	if c.Data.File != "" {
		args = append(args, "--data", c.Data.File)
		if c.Data.Symbol != "" {
			args = append(args, "--symbol", c.Data.Symbol)
		}
	} else {
		args = append(args, "--synth", strconv.FormatInt(c.Data.Seed, 10), "--regime", c.Data.Regime)
	}
	pw := auth16()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "VENUE_PASSWORD="+pw)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	logPath := filepath.Join(filepath.Dir(c.Desk.Journal), "deskguard-venue.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = lf
	out, err := cmd.StdoutPipe()
	if err != nil {
		lf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start the venue: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		lf.Close()
	}
	var base, md string
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	for sc.Scan() && (base == "" || md == "") {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "venue: "); ok {
			base = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "md websocket: "); ok {
			md = strings.TrimSpace(v)
		}
	}
	deadline.Stop()
	// The child's later lines are drained; the one that says its data
	// failed is handed to the desk (feedFailed), which takes the data
	// link down: the venue keeps serving, so the desk would otherwise sit
	// on silent data saying "data up" (issue 25.7).
	failed := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if why, ok := strings.CutPrefix(sc.Text(), feedFailLine); ok {
				select {
				case failed <- why:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	if base == "" || md == "" {
		stop()
		return nil, fmt.Errorf("the venue child did not report its address (see %s)", logPath)
	}
	p, err := dialVenue(ctx, tradovate.Config{BaseURL: base, MDURL: md, User: "demo", Symbol: sym.String()}, tradovate.Credentials{Password: pw}, log)
	if err != nil {
		stop()
		return nil, err
	}
	inner := p.close
	p.close = func() { inner(); stop() }
	p.feedFailed = failed
	p.what = fmt.Sprintf("%s at the local venue %s (pid %d, log %s)", sym, base, cmd.Process.Pid, logPath)
	return p, nil
}

func auth16() string {
	var b [8]byte
	f, err := os.Open("/dev/urandom")
	if err == nil {
		_, _ = io.ReadFull(f, b[:])
		f.Close()
	}
	return fmt.Sprintf("%x", b)
}

// sessionFeed ends the venue's market-data stream at the session's end: a
// venue keeps serving (holding brackets) after its data ends, so the desk
// calls the session over when no trade has come for idle after 15:59 ET.
type sessionFeed struct {
	f    interface{ C() <-chan market.Trade } // the Tradovate or the Rithmic feed
	idle time.Duration
	last int64
	// endIdle, when set, also ends the stream after that long without any
	// trade at all (a replay venue whose data is already over).
	endIdle time.Duration
	quiet   time.Duration
}

func (s *sessionFeed) Next() (market.Trade, error) {
	for {
		select {
		case t := <-s.f.C():
			s.last, s.quiet = t.Time, 0
			return t, nil
		case <-time.After(s.idle):
			if s.last != 0 && market.MinuteET(time.Unix(0, s.last)) >= 15*60+59 {
				return market.Trade{}, io.EOF
			}
			s.quiet += s.idle
			if s.endIdle > 0 && s.quiet >= s.endIdle {
				return market.Trade{}, io.EOF
			}
		}
	}
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// loopbackURL reports whether u's host is this machine.
func loopbackURL(u string) bool {
	pu, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := pu.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// linkNotes says what the connector cannot get past on its own.
func linkNotes(cl *tradovate.Client, f *tradovate.Feed) []string {
	var out []string
	if err := cl.Problem(); err != nil {
		out = append(out, "venue: "+err.Error())
	}
	if err := f.Problem(); err != nil {
		out = append(out, "market data: "+err.Error())
	}
	if had, incomplete := f.DataGap(); had {
		n := 0
		for _, g := range f.Gaps() {
			n += g.Backfilled
		}
		s := fmt.Sprintf("market data had a gap (%d trades backfilled)", n)
		if incomplete {
			s += "; some trades may be missing"
		}
		out = append(out, s)
	}
	return out
}
