// tls_test.go: a client TLS config for the self-signed test certificate.
package console_test

import "crypto/tls"

func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} } //nolint:gosec // test cert
