// Package firm is `deskguard firm`: the firm-wide view over many desks and
// the firm kill (issue 19). Every desk publishes its journal to one NATS
// JetStream stream (package outbox); the Aggregator consumes it with a
// durable consumer, folds each desk's records once, in journal order, into
// that desk's Book (accounts, positions, working orders, equity — as the
// desk's own recovery folds them), and saves the books with the stream
// position they reflect, acknowledging the consumer only up to what is
// saved, so a restarted aggregator resumes from its consumer position with
// the same state as a fresh rebuild from the stream.
//
// Firm limits (daily loss, gross position) and the firm manager's kill send
// an ed25519-signed kill command to every desk (request/reply), re-issued
// until each desk replies flat; each desk executes it as one more kill
// trigger ("firm"). The firm is never on a desk's kill path: a desk that
// cannot hear the firm kills as well as ever from its own triggers, and
// NATS being down never flattens or halts a desk.
//
// Files: fold.go (a desk's book from its records), aggregator.go (the
// consumer, the state file, heartbeats), kill.go (kills, limits, the
// view), console.go (the firm console), embed.go (an embedded NATS server
// for the one-machine demo).
package firm
