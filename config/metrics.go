package config

// metrics.go: the [metrics] table — where the desk's Prometheus metrics
// are served (package metrics) and the token a scrape from beyond this
// machine must carry.

import (
	"net"
	"os"
	"path/filepath"
	"strings"
)

// Metrics is the [metrics] table.
type Metrics struct {
	// Listen is where /metrics is served: "" = on the console's server
	// (its address, TLS and bind rules); host:port = a listener of its own
	// (HTTPS with the console's certificate when the console has one);
	// "off" = not served.
	Listen string `toml:"listen"`
	// TokenEnv or TokenFile (not both) hold the bearer token a scrape from
	// another machine must send (Authorization: Bearer …). A scrape from
	// this machine (a loopback client address) needs none; without a token
	// configured, only such scrapes are answered.
	TokenEnv  string `toml:"token_env"`
	TokenFile string `toml:"token_file"`
}

// MetricsAddr is the address /metrics is served on ("" when it is not:
// [metrics] listen = "off", or on the console's server with the console off).
func (c *Config) MetricsAddr() string {
	switch c.Metrics.Listen {
	case "off":
		return ""
	case "":
		if c.Console.Listen == "off" {
			return ""
		}
		if c.Console.Listen == "" {
			return "127.0.0.1:8080" // console.DefaultListen
		}
		return c.Console.Listen
	}
	return c.Metrics.Listen
}

// validateMetrics reports each [metrics] problem through at (validate's).
func (c *Config) validateMetrics(at func(key, format string, args ...any)) {
	m := c.Metrics
	if l := m.Listen; l != "" && l != "off" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			at("metrics.listen", "%q: want host:port, \"\" (the console's server) or \"off\"", l)
			return
		}
	}
	if m.TokenEnv != "" && m.TokenFile != "" {
		at("metrics.token_env", "give token_env or token_file, not both")
	}
}

// MetricsToken reads the [metrics] token ("" when none is configured).
// Errors name where it was to be found, never its value.
func (c *Config) MetricsToken() (string, error) {
	m := c.Metrics
	switch {
	case m.TokenEnv != "":
		v := strings.TrimSpace(os.Getenv(m.TokenEnv))
		if v == "" {
			return "", c.errorf("metrics.token_env", "environment variable %s is empty", m.TokenEnv)
		}
		return v, nil
	case m.TokenFile != "":
		b, err := readSmall(filepath.Clean(m.TokenFile))
		if err != nil {
			return "", c.errorf("metrics.token_file", "%v", err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", c.errorf("metrics.token_file", "file %s is empty", m.TokenFile)
		}
		return v, nil
	}
	return "", nil
}
