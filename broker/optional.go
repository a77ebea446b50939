package broker

// optional.go: what some venue connections can do beyond the Broker
// interface, as small interfaces the desk looks for with a type assertion
// (broker/tradovate has all but Noter, broker/rithmic all but Adopter; the
// in-process sim none): rebind an order by the venue's own id after a
// restart, set the broker's own risk limits as a second line, read the
// broker's cash balance, count the user-data resynchronisations
// (reconnects), and say what the connection cannot get past on its own.

import (
	"context"
	"errors"
	"time"

	"github.com/shopspring/decimal"
)

// Adopter binds an order the venue knows by its own id (Event.VenueOrder)
// to the desk's ClientID: for a desk that journaled the venue's ids and
// restarts against a venue that does not echo client order ids.
type Adopter interface {
	Adopt(account, clientID, venueOrder string) error
}

// AutoLiq is an account's own auto-liquidation settings at the broker.
type AutoLiq struct {
	Set           bool            // the broker has settings for the account
	DailyLoss     decimal.Decimal // $ daily loss that liquidates (0: none)
	FlattenAt     time.Time       // flatten & cancel at (zero: none)
	ChangesLocked bool            // the broker (or the firm) locked them
}

// ErrRiskRefused is wrapped when the broker does not take the desk's risk
// settings for an account (changes locked, or a read-back that differs).
var ErrRiskRefused = errors.New("broker: the broker refused the risk settings")

// RiskSetter is a broker that holds risk limits of its own for an account
// and lets the desk set them: the daily loss that liquidates the account
// and the time it is flattened. SetAutoLiq writes them and reads them back;
// what the broker holds is returned, and an error wrapping ErrRiskRefused
// when that is not what was asked.
type RiskSetter interface {
	SetAutoLiq(ctx context.Context, account string, dailyLoss decimal.Decimal, flattenAt time.Time) (AutoLiq, error)
}

// Cash is an account's cash balance at the broker, in dollars: the total
// cash, the trade date's realized PnL, the open PnL and the net
// liquidation value.
type Cash struct {
	TotalCash, Realized, Open, NetLiq decimal.Decimal
}

// CashReporter reads an account's cash balance at the broker.
type CashReporter interface {
	CashBalance(ctx context.Context, account string) (Cash, error)
}

// Syncer counts the complete snapshots of the account data the
// connection has taken (one at connect, one more after each reconnect):
// the desk reconciles again when it grows.
type Syncer interface {
	Syncs() int
}

// Noter says what the connection cannot get past on its own (a captcha
// demanded, market data that had a gap), for the desk's status; nil when
// nothing.
type Noter interface {
	Notes() []string
}
