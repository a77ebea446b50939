package market

import "fmt"

// Side is a trade's aggressor or an order's direction: Buy (+1), Sell (-1)
// or Unknown (0). Sign() lets code write qty × side.
type Side int8

const (
	Unknown Side = 0
	Buy     Side = 1
	Sell    Side = -1
)

// Sign returns +1, -1 or 0.
func (s Side) Sign() int64 { return int64(s) }

// Opposite returns the other side; Unknown stays Unknown.
func (s Side) Opposite() Side { return -s }

func (s Side) String() string {
	switch s {
	case Buy:
		return "buy"
	case Sell:
		return "sell"
	default:
		return "unknown"
	}
}

// ParseSide accepts buy/sell/unknown and the one-letter data codes
// B (buy aggressor), S or A (sell aggressor, "hit the bid/ask side"), N.
func ParseSide(s string) (Side, error) {
	switch s {
	case "buy", "Buy", "BUY", "B", "b", "long":
		return Buy, nil
	case "sell", "Sell", "SELL", "S", "s", "A", "a", "short":
		return Sell, nil
	case "", "unknown", "N", "n":
		return Unknown, nil
	}
	return Unknown, fmt.Errorf("market: side %q: want B, S, A, N, buy or sell", s)
}

// MarshalText encodes the side as buy/sell/unknown.
func (s Side) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes buy/sell/unknown and the data codes.
func (s *Side) UnmarshalText(b []byte) error {
	v, err := ParseSide(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// OrderType is how an order executes at the venue.
type OrderType uint8

const (
	MarketOrder OrderType = iota + 1
	LimitOrder
	StopOrder // stop-market: triggers, then fills at the next trade
	StopLimitOrder
)

func (t OrderType) String() string {
	switch t {
	case MarketOrder:
		return "market"
	case LimitOrder:
		return "limit"
	case StopOrder:
		return "stop"
	case StopLimitOrder:
		return "stop_limit"
	case 0:
		return ""
	}
	return fmt.Sprintf("order_type(%d)", uint8(t))
}

// MarshalText encodes the order type by name.
func (t OrderType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText decodes an order type name.
func (t *OrderType) UnmarshalText(b []byte) error {
	switch string(b) {
	case "":
		*t = 0
	case "market":
		*t = MarketOrder
	case "limit":
		*t = LimitOrder
	case "stop":
		*t = StopOrder
	case "stop_limit":
		*t = StopLimitOrder
	default:
		return fmt.Errorf("market: order type %q: want market, limit, stop or stop_limit", b)
	}
	return nil
}
