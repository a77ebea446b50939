// Package journal is deskguard's write-ahead log (DESIGN.md invariant 7): an
// append-only sequence of typed, versioned records in a bbolt file, keyed by
// big-endian uint64 sequence numbers starting at 1.
//
// Every intent is appended (and fsynced) before it reaches the broker; every
// broker event, state transition, kill, lockout, unlock, re-arm, config
// change, session reset and snapshot is appended too. Append returns only
// once the record's bbolt transaction has committed (data pages and meta
// page fdatasynced). Concurrent appenders share commits: one writer
// goroutine takes everything queued while the previous commit was running
// and commits it in one transaction (group commit), so N intents in flight
// cost about one commit, not N.
//
// Each stored value carries a CRC-32C over its bytes, so a flipped byte is
// detected when the record is read, not silently decoded into a different
// history. Open checks the file (bbolt's own tx.Check, every record's CRC and
// the contiguity of the sequence numbers) and refuses a damaged or newer
// journal with a typed error; nothing is ever repaired.
//
// Reading: Iterate, Last, Tail, Export (JSON lines), Recover (from the latest
// snapshot record), OpenIntents (intents the venue never answered), and
// Verify (the report behind `deskguard journal verify`).
//
// AppendUrgent (the kill's record) is durable once written and fdatasynced
// in the urgent log beside the file (<path>.urgent, urgentlog.go), without
// waiting for the commit already running; Open replays into bbolt what the
// urgent log holds past the last commit.
//
// It may touch its one bbolt file, its urgent log (and the copy Backup writes), accounts (journal verify's ledger
// check), broker and intent (the typed records) and market.
package journal
