package main

// firm_wiring.go: `deskguard run --firm nats://...` (or [firm] url) — the
// desk's firm link: the outbox publishing the journal to the firm's
// JetStream stream, and the link answering signed firm kills with
// Desk.Flatten(ctx, "", "firm", who), its reduce-only hook turning the
// desk's firm reduce-only on and off (Desk.SetFirmReduceOnly: one atomic
// the intent path reads). It is started after the desk is built and takes
// no lock of the desk's three paths; without a URL it is not started at
// all. Its state (link, hook, outbox progress and lag) is in the desk's
// Status through firmLink.Status.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/deskguard/deskguard/config"
	"github.com/deskguard/deskguard/deskapi"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/journal"
	"github.com/deskguard/deskguard/market"
	"github.com/deskguard/deskguard/outbox"
)

// firmLink is a running firm link (nil-safe: a desk without one).
type firmLink struct {
	nc     *nats.Conn
	ob     *outbox.Outbox
	j      *journal.Journal
	link   *outbox.Link
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startFirmLink starts the firm link of c's [firm] table (nil, nil when
// it has no URL). onReduceOnly is the reduce-only hook (nil: logged only);
// startReduceOnly says the hook is on at start (the desk recovered it:
// it had lost the firm before this run).
func startFirmLink(ctx context.Context, e *env, c *config.Config, j *journal.Journal, d deskapi.Desk, log *slog.Logger,
	onReduceOnly func(bool), startReduceOnly bool) (*firmLink, error) {
	fc := c.Firm
	if fc.URL == "" {
		return nil, nil
	}
	desk := c.FirmDesk()
	if !wire.ValidDesk(desk) {
		return nil, config.FirmError("desk", "%q is not a desk name on the firm stream (1-64 of A-Z a-z 0-9 - _)", desk)
	}
	var opts []nats.Option
	switch {
	case fc.CredsFile != "":
		opts = append(opts, nats.UserCredentials(fc.CredsFile))
	case fc.TokenFile != "":
		tok, err := readSecretFile(fc.TokenFile)
		if err != nil {
			return nil, config.FirmError("token_file", "%v", err)
		}
		opts = append(opts, nats.Token(tok))
	}
	var verifier *wire.Verifier
	if fc.CommandKey != "" {
		pub, err := wire.LoadPublicKey(fc.CommandKey)
		if err != nil {
			return nil, config.FirmError("command_key", "%v", err)
		}
		verifier = &wire.Verifier{Desk: desk, Key: pub, MaxAge: fc.CommandMaxAge}
	} else {
		log.Warn("firm link without [firm] command_key: every firm command will be refused")
	}
	lg := log.With("part", "firm")
	nc, err := outbox.Connect(strings.ReplaceAll(fc.URL, " ", ""), "deskguard desk "+desk, opts...)
	if err != nil {
		return nil, err
	}
	cursor := fc.CursorFile
	if cursor == "" {
		cursor = j.Path() + ".outbox"
	}
	ob, err := outbox.New(outbox.Options{Desk: desk, Journal: j, Conn: nc, CursorFile: cursor, Log: lg, Clock: market.WallClock{},
		Stream: wire.StreamOptions{Name: fc.Stream, Replicas: fc.Replicas}})
	if err != nil {
		nc.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &firmLink{nc: nc, ob: ob, j: j, cancel: cancel}
	if onReduceOnly == nil {
		onReduceOnly = func(on bool) {
			lg.Warn("firm link: reduce-only hook (not wired to the gate in this build)", "on", on)
		}
	}
	f.link, err = outbox.StartLink(lctx, outbox.LinkOptions{Desk: desk, Conn: nc, Target: d, Verifier: verifier, Outbox: ob,
		Journal: j, Clock: market.WallClock{}, Log: lg, FirmTimeout: fc.FirmTimeout, ReduceOnlyAfter: fc.ReduceOnlyAfter,
		OnReduceOnly: onReduceOnly, StartReduceOnly: startReduceOnly})
	if err != nil {
		cancel()
		nc.Close()
		return nil, err
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := ob.Run(lctx); err != nil && lctx.Err() == nil {
			lg.Error("outbox stopped", "err", err)
		}
	}()
	fmt.Fprintf(e.stdout, "firm link: desk %s on %s (outbox cursor %s, from seq %d of %d)\n", desk, fc.URL, cursor, ob.Published(), ob.Committed())
	return f, nil
}

// Outbox is the link's outbox (its Status and Lag are what status and
// metrics show); nil without a firm link.
func (f *firmLink) Outbox() *outbox.Outbox {
	if f == nil {
		return nil
	}
	return f.ob
}

// Status is the link for the desk's Status (deskapi.Status.Firm); nil
// without a firm link.
func (f *firmLink) Status() *deskapi.FirmLink {
	if f == nil {
		return nil
	}
	return firmStatus(f.ob.Status(), f.link)
}

// linkState is what Status reads of the link (*outbox.Link).
type linkState interface {
	FirmLink() (up bool, downSince time.Time)
	ReduceOnly() bool
}

// firmStatus folds the outbox's and the link's state into the API's.
func firmStatus(ob outbox.Status, l linkState) *deskapi.FirmLink {
	fs := &deskapi.FirmLink{Desk: ob.Desk, Committed: ob.Committed, Published: ob.Published, Lag: ob.Lag,
		OutboxUp: ob.Up, OutboxError: ob.Error, OutboxSince: ob.DownSince}
	up, since := l.FirmLink()
	fs.Up, fs.ReduceOnly = up, l.ReduceOnly()
	if !up && !since.IsZero() {
		fs.DownSince = since.UTC().Format(time.RFC3339Nano)
	}
	return fs
}

// Stop gives the outbox a moment to publish the last records (the end of
// run's snapshot: the journal's last committed seq, read here — the
// outbox's own Lag may not have seen it yet), then stops the link. A
// firm out of reach does not hold the exit: the next run publishes the
// rest from the cursor.
func (f *firmLink) Stop() {
	if f == nil {
		return
	}
	if f.nc.IsConnected() {
		if last, err := f.j.Committed(); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = f.ob.WaitPublished(ctx, last)
			cancel()
		}
	}
	f.cancel()
	f.wg.Wait()
	f.link.Wait()
	f.nc.Close()
}
