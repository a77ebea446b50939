// Package rithmic is a broker.Broker over Rithmic's R|Protocol (protobuf
// frames over a WebSocket, one login per plant) and a market feed from its
// ticker plant whose trades carry the aggressor the data gives
// (LastTrade, 150), never an inferred one.
//
// The Client logs in to the order plant (orders, brackets, cancels,
// liquidation, notifications) and the PnL plant (positions); the Feed to
// the ticker plant. Each plant heartbeats at the interval its login
// returns, reconnects with backoff and subscribes again (subscriptions are
// lost with the connection); a forced logout (77) backs off the longest.
// Every entry is one bracket order (330) whose stop and target Rithmic
// holds, in ticks from the entry's fill; a bracket's stop moves only
// tighter (334); a liquidation is cancel all (346) then exit position
// (3504). The desk's ClientIDs travel in user_tag. Notifications
// (Rithmic-side 351, exchange-side 352) become execution events delivered
// once each, by venue id. After every order plant login the connector
// reconciles from the executions replayed since the session start (3506)
// and the order snapshot (320), and it never resends a request by itself:
// a new order whose answer was lost is sent again only when the
// reconciliation shows it absent.
//
// The wire format is package rpb (deskguard's own .proto files, with the
// public sources of every number); the local venue that speaks the same
// protocol is broker/venue/rithmic. docs/rithmic.md is the manual.
package rithmic
