package main

// cmd_firm.go: `deskguard firm` — the firm aggregator and its console
// (embedded NATS server when no --nats URL is given), and its subcommands
// `firm keygen` (the firm's ed25519 command key pair), `firm kill` (a firm
// kill through the running firm's console API) and `firm status`.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/shopspring/decimal"

	"github.com/deskguard/deskguard/auth"
	"github.com/deskguard/deskguard/firm"
	"github.com/deskguard/deskguard/firm/wire"
	"github.com/deskguard/deskguard/outbox"
)

// defaultFirmTokenFile holds the firm console's demo firm-role token.
const defaultFirmTokenFile = "deskguard-firm.token"

func cmdFirm(e *env) int {
	if len(e.args) > 0 {
		switch e.args[0] {
		case "keygen":
			return cmdFirmKeygen(&env{ctx: e.ctx, args: e.args[1:], stdin: e.stdin, stdout: e.stdout, stderr: e.stderr})
		case "kill":
			return cmdFirmKill(&env{ctx: e.ctx, args: e.args[1:], stdin: e.stdin, stdout: e.stdout, stderr: e.stderr})
		case "status":
			return cmdFirmStatus(&env{ctx: e.ctx, args: e.args[1:], stdin: e.stdin, stdout: e.stdout, stderr: e.stderr})
		}
	}
	fs := flag.NewFlagSet("firm", flag.ContinueOnError)
	fo := firmFlags(fs)
	if !parseFlags(e, fs) {
		return 2
	}
	return runFirm(e, fo, nil)
}

// firmOpts are `deskguard firm`'s flags.
type firmOpts struct {
	name, natsURL, natsListen, store, state, key, desks, console, creds, natsToken string
	firmToken, viewerToken, stream                                                 string
	replicas                                                                       int
	maxPosition                                                                    int64
	dailyLoss                                                                      string
}

func firmFlags(fs *flag.FlagSet) *firmOpts {
	o := &firmOpts{}
	fs.StringVar(&o.name, "name", "firm", "the firm's name (heartbeat, console)")
	fs.StringVar(&o.natsURL, "nats", "", "NATS server URL(s), comma-separated (default: an embedded NATS server with JetStream)")
	fs.StringVar(&o.natsListen, "nats-listen", "127.0.0.1:4222", "the embedded NATS server's address (without --nats)")
	fs.StringVar(&o.store, "store", "firm-nats", "the embedded NATS server's JetStream store directory (without --nats)")
	fs.StringVar(&o.state, "state", "firm.state", "the firm's saved books and stream position (\"\" = rebuild from the stream at every start)")
	fs.StringVar(&o.key, "key", "firm.key", "the firm's ed25519 command key (deskguard firm keygen); without it no firm kill can be sent")
	fs.StringVar(&o.desks, "desks", "", "desks expected, comma-separated (shown, and killed, before they publish)")
	fs.StringVar(&o.console, "console", "127.0.0.1:8090", "firm console address; \"off\" disables it")
	fs.StringVar(&o.creds, "creds", "", "NATS credentials file (user JWT + nkey seed)")
	fs.StringVar(&o.natsToken, "nats-token-file", "", "a file holding a NATS token")
	fs.StringVar(&o.firmToken, "firm-token-file", "", "a file holding the console token of the firm role (default: a demo token, printed)")
	fs.StringVar(&o.viewerToken, "viewer-token-file", "", "a file holding a console token of the viewer role")
	fs.StringVar(&o.stream, "stream", wire.DefaultStream, "the JetStream stream of the desks' journals")
	fs.IntVar(&o.replicas, "replicas", 1, "replicas when the firm creates the stream (3 on a three-node cluster)")
	fs.StringVar(&o.dailyLoss, "daily-loss", "0", "firm daily loss limit in dollars: at -this net the firm kills every desk (0: off)")
	fs.Int64Var(&o.maxPosition, "max-position", 0, "firm gross position limit in contracts: above it the firm kills every desk (0: off)")
	return o
}

// runFirm runs the aggregator and its console until e.ctx ends. ready,
// when set, is told the NATS URL and console address once both are up
// (the demo starts its desks then).
func runFirm(e *env, o *firmOpts, ready func(natsURL, console string)) int {
	log := newLogger(e.stderr, "info").With("part", "firm")
	ctx := e.ctx
	loss, err := decimal.NewFromString(o.dailyLoss)
	if err != nil || loss.IsNegative() {
		return fail(e, "firm", fmt.Errorf("--daily-loss %q: want dollars ≥ 0", o.dailyLoss), 2)
	}
	var desks []string
	for _, d := range strings.Split(o.desks, ",") {
		if d = strings.TrimSpace(d); d != "" {
			desks = append(desks, d)
		}
	}
	url := o.natsURL
	if url == "" {
		if err := os.MkdirAll(o.store, 0o700); err != nil {
			return fail(e, "firm", err, 1)
		}
		srv, err := firm.StartEmbedded(o.natsListen, o.store)
		if err != nil {
			return fail(e, "firm", err, 1)
		}
		defer srv.Stop()
		url = srv.URL()
		fmt.Fprintf(e.stdout, "embedded NATS server (JetStream store %s): %s\n", o.store, url)
	}
	var nopts []nats.Option
	switch {
	case o.creds != "":
		nopts = append(nopts, nats.UserCredentials(o.creds))
	case o.natsToken != "":
		tok, err := readSecretFile(o.natsToken)
		if err != nil {
			return fail(e, "firm", err, 2)
		}
		nopts = append(nopts, nats.Token(tok))
	}
	nc, err := outbox.Connect(url, "deskguard firm "+o.name, nopts...)
	if err != nil {
		return fail(e, "firm", err, 1)
	}
	defer nc.Close()
	var key []byte
	if o.key != "" {
		k, err := wire.LoadPrivateKey(o.key)
		switch {
		case err == nil:
			key = k
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(e.stdout, "no command key %s: the firm shows the desks but cannot kill them (deskguard firm keygen)\n", o.key)
		default:
			return fail(e, "firm", err, 2)
		}
	}
	agg, err := firm.New(firm.Options{Name: o.name, Conn: nc, Stream: wire.StreamOptions{Name: o.stream, Replicas: o.replicas},
		StateFile: o.state, Desks: desks, Key: key, Limits: firm.Limits{DailyLoss: loss, MaxPosition: o.maxPosition}, Log: log})
	if err != nil {
		return fail(e, "firm", err, 2)
	}
	consoleAddr := ""
	if o.console != "off" {
		toks, err := firmTokens(e, o)
		if err != nil {
			return fail(e, "firm", err, 2)
		}
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", o.console)
		if err != nil {
			return fail(e, "firm", fmt.Errorf("console: listen %s: %w", o.console, err), 1)
		}
		consoleAddr = ln.Addr().String()
		go func() {
			if err := (&firm.Console{Agg: agg, Tokens: toks, Log: log}).Serve(ctx, ln); err != nil {
				log.Error("firm console stopped", "err", err)
			}
		}()
		fmt.Fprintf(e.stdout, "firm console: http://%s\n", consoleAddr)
	}
	if ready != nil {
		ready(url, consoleAddr)
	}
	fmt.Fprintf(e.stdout, "deskguard firm %s: stream %s on %s; limits: daily loss %s, gross position %d (0 = off)\n",
		o.name, o.stream, url, loss.StringFixed(2), o.maxPosition)
	if err := agg.Run(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fail(e, "firm", err, 1)
	}
	fmt.Fprintln(e.stdout, "stopped")
	return 0
}

// firmTokens: the configured token files, or a demo firm-role token
// printed once and written to ./deskguard-firm.token for `firm kill`.
func firmTokens(e *env, o *firmOpts) (*auth.Tokens, error) {
	toks := &auth.Tokens{}
	if o.firmToken != "" {
		t, err := readSecretFile(o.firmToken)
		if err != nil {
			return nil, err
		}
		toks.AddPlain("firm", t, auth.Role{Kind: firm.FirmRole})
	}
	if o.viewerToken != "" {
		t, err := readSecretFile(o.viewerToken)
		if err != nil {
			return nil, err
		}
		toks.AddPlain("firm-viewer", t, auth.Role{Kind: "viewer"})
	}
	if o.firmToken == "" {
		t := auth.NewToken()
		toks.AddPlain("demo-firm", t, auth.Role{Kind: firm.FirmRole})
		v := auth.NewToken()
		toks.AddPlain("demo-firm-viewer", v, auth.Role{Kind: "viewer"})
		fmt.Fprintf(e.stdout, "firm console demo tokens (this run only):\n  firm    %s\n  viewer  %s\n", t, v)
		if err := os.WriteFile(defaultFirmTokenFile, []byte(t+"\n"), 0o600); err == nil {
			fmt.Fprintf(e.stdout, "the firm token is also in ./%s for `deskguard firm kill`\n", defaultFirmTokenFile)
		}
	}
	return toks, nil
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" || len(s) > 4096 {
		return "", fmt.Errorf("secret file %s: empty or too long", path)
	}
	return s, nil
}

func cmdFirmKeygen(e *env) int {
	fs := flag.NewFlagSet("firm keygen", flag.ContinueOnError)
	out := fs.String("out", "firm.key", "the private key file (mode 0600); the public key goes beside it with .pub")
	if !parseFlags(e, fs) {
		return 2
	}
	pub := strings.TrimSuffix(*out, filepath.Ext(*out)) + ".pub"
	if _, err := wire.GenerateKey(*out, pub); err != nil {
		return fail(e, "firm keygen", err, 1)
	}
	fmt.Fprintf(e.stdout, "firm command key: %s (keep it on the firm's machine)\npublic key for every desk's [firm] command_key: %s\n", *out, pub)
	return 0
}

// firmClient is the CLI's view of a running firm console.
type firmClient struct{ url, token string }

func firmClientFlags(fs *flag.FlagSet) (*string, *string) {
	return fs.String("console", "http://127.0.0.1:8090", "the firm console's URL"),
		fs.String("token-file", defaultFirmTokenFile, "a file holding a firm console token")
}

func (c firmClient) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.url, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode >= 300 {
		var m map[string]string
		_ = json.Unmarshal(b, &m)
		return fmt.Errorf("%s: %s", resp.Status, m["error"])
	}
	return json.Unmarshal(b, out)
}

func cmdFirmKill(e *env) int {
	fs := flag.NewFlagSet("firm kill", flag.ContinueOnError)
	url, tf := firmClientFlags(fs)
	reason := fs.String("reason", "", "why (required; journaled by every desk)")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for every desk to confirm flat (0: do not wait)")
	if !parseFlags(e, fs) {
		return 2
	}
	if strings.TrimSpace(*reason) == "" {
		return fail(e, "firm kill", errors.New("--reason is required"), 2)
	}
	tok, err := readSecretFile(*tf)
	if err != nil {
		return fail(e, "firm kill", err, 2)
	}
	c := firmClient{*url, tok}
	var r struct {
		KillID string `json:"kill_id"`
	}
	if err := c.do(e.ctx, "POST", "/api/kill", map[string]string{"reason": *reason}, &r); err != nil {
		return fail(e, "firm kill", err, 1)
	}
	fmt.Fprintf(e.stdout, "firm kill %s sent\n", r.KillID)
	deadline := time.Now().Add(*wait)
	for *wait > 0 {
		var v firm.View
		if err := c.do(e.ctx, "GET", "/api/view", nil, &v); err != nil {
			return fail(e, "firm kill", err, 1)
		}
		for _, k := range v.Kills {
			if k.ID != r.KillID {
				continue
			}
			if k.Done || time.Now().After(deadline) {
				for _, d := range sortedKeys(k.Desks) {
					dk := k.Desks[d]
					fmt.Fprintf(e.stdout, "  %-12s acknowledged %-5v flat %-5v sent %d %s\n", d, dk.Acked, dk.Flat, dk.Sent, dk.Error)
				}
				if k.Done {
					fmt.Fprintln(e.stdout, "every desk confirmed flat")
					return 0
				}
				fmt.Fprintln(e.stdout, "not every desk has confirmed flat yet (the firm keeps re-issuing the kill)")
				return 1
			}
		}
		select {
		case <-e.ctx.Done():
			return 1
		case <-time.After(100 * time.Millisecond):
		}
	}
	return 0
}

func cmdFirmStatus(e *env) int {
	fs := flag.NewFlagSet("firm status", flag.ContinueOnError)
	url, tf := firmClientFlags(fs)
	asJSON := fs.Bool("json", false, "print the whole view as JSON")
	if !parseFlags(e, fs) {
		return 2
	}
	tok, err := readSecretFile(*tf)
	if err != nil {
		return fail(e, "firm status", err, 2)
	}
	var v firm.View
	if err := (firmClient{*url, tok}).do(e.ctx, "GET", "/api/view", nil, &v); err != nil {
		return fail(e, "firm status", err, 1)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
		return 0
	}
	fmt.Fprintf(e.stdout, "firm %s: net %s, gross %d, net position %d, working %d\n", v.Name, v.Net, v.Gross, v.NetPos, v.Working)
	for _, d := range v.Desks {
		fmt.Fprintf(e.stdout, "  %-12s %-8s link %-5s net %10s gross %3d seq %d/%d lag %d\n", d.Desk, d.State, d.Link, d.Net, d.Gross,
			d.LastSeq, d.Committed, d.Lag)
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
