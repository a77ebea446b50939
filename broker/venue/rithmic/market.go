// market.go: the ticker plant (market data subscriptions, front month
// lookups, LastTrade with the data's aggressor, BestBidOffer) and the PnL
// plant (position snapshots and updates from the engine's positions).

package rithmic

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/deskguard/deskguard/broker/rithmic/rpb"
	"github.com/deskguard/deskguard/market"
)

var bg = context.Background()

// tickerRequest serves the ticker plant. Caller holds v.mu.
func (v *Venue) tickerRequest(c *conn, tpl int32, m proto.Message, um []string) {
	switch r := m.(type) {
	case *rpb.RequestMarketDataUpdate:
		if r.Symbol != v.cfg.Symbol || r.Exchange != v.cfg.Exchange {
			c.reply(rpb.TMarketDataResponse, &rpb.ResponseMarketDataUpdate{UserMsg: um,
				RpCode: fail("3", fmt.Sprintf("no market data for %s.%s", r.Symbol, r.Exchange))})
			return
		}
		switch r.Request {
		case rpb.SubscribeRequest_SUBSCRIBE:
			c.mdBits |= r.UpdateBits
			c.reply(rpb.TMarketDataResponse, &rpb.ResponseMarketDataUpdate{UserMsg: um, RpCode: ok})
			v.countLocked(func(s *Stats) { s.Subscriptions++ })
			if v.hasLast { // the current state first, marked as a snapshot
				if r.UpdateBits&uint32(rpb.UpdateBits_UPDATE_LAST_TRADE) != 0 {
					lt := v.lastTradeMsg(v.last)
					lt.IsSnapshot = true
					c.reply(rpb.TLastTrade, lt)
				}
				if r.UpdateBits&uint32(rpb.UpdateBits_UPDATE_BBO) != 0 {
					bbo := v.bboMsg(v.last)
					bbo.IsSnapshot = true
					c.reply(rpb.TBestBidOffer, bbo)
				}
			}
			v.subOnce.Do(func() { close(v.subscribed) })
		case rpb.SubscribeRequest_UNSUBSCRIBE:
			c.mdBits &^= r.UpdateBits
			c.reply(rpb.TMarketDataResponse, &rpb.ResponseMarketDataUpdate{UserMsg: um, RpCode: ok})
		default:
			c.reply(rpb.TMarketDataResponse, &rpb.ResponseMarketDataUpdate{UserMsg: um, RpCode: fail("3", "request: want SUBSCRIBE or UNSUBSCRIBE")})
		}
	case *rpb.RequestFrontMonthContract:
		if (r.Symbol != v.cfg.Root && r.Symbol != v.cfg.Symbol) || r.Exchange != v.cfg.Exchange {
			c.reply(rpb.TFrontMonthResponse, &rpb.ResponseFrontMonthContract{UserMsg: um, RpCode: []string{"7", "no data"}})
			return
		}
		c.reply(rpb.TFrontMonthResponse, &rpb.ResponseFrontMonthContract{UserMsg: um, RpCode: ok, Symbol: r.Symbol, Exchange: r.Exchange,
			IsFrontMonthSymbol: true, SymbolName: "Front Month for " + r.Symbol + " - " + v.cfg.Symbol + "." + v.cfg.Exchange,
			TradingSymbol: v.cfg.Symbol, TradingExchange: v.cfg.Exchange})
	default:
		c.reply(rpb.TReject, &rpb.Reject{UserMsg: um, RpCode: fail("3", fmt.Sprintf("template %d is not served here", tpl))})
	}
}

func (v *Venue) lastTradeMsg(t market.Trade) *rpb.LastTrade {
	m := &rpb.LastTrade{Symbol: v.cfg.Symbol, Exchange: v.cfg.Exchange, PresenceBits: 1 | 8, TradePrice: t.Price.Points(),
		TradeSize: int32(t.Size), Volume: uint64(v.stats.Trades), Ssboe: int32(t.Time / 1e9), Usecs: int32(t.Time % 1e9 / 1e3),
		SourceSsboe: int32(t.Time / 1e9), SourceUsecs: int32(t.Time % 1e9 / 1e3), SourceNsecs: int32(t.Time % 1e9)}
	switch t.Aggressor {
	case market.Buy:
		m.Aggressor = rpb.TransactionType_TRANSACTION_BUY
	case market.Sell:
		m.Aggressor = rpb.TransactionType_TRANSACTION_SELL
	}
	return m
}

// bboMsg is a one-tick book around a trade: a buy aggressor printed at
// the ask, a sell aggressor at the bid.
func (v *Venue) bboMsg(t market.Trade) *rpb.BestBidOffer {
	p := t.Price
	bid, ask := p-1, p+1
	switch t.Aggressor {
	case market.Buy:
		ask = p
	case market.Sell:
		bid = p
	}
	return &rpb.BestBidOffer{Symbol: v.cfg.Symbol, Exchange: v.cfg.Exchange, PresenceBits: 1 | 2, BidPrice: bid.Points(), BidSize: 1,
		AskPrice: ask.Points(), AskSize: 1, Ssboe: int32(t.Time / 1e9), Usecs: int32(t.Time % 1e9 / 1e3)}
}

// broadcastTradeLocked sends a trade to the market data subscribers.
func (v *Venue) broadcastTradeLocked(t market.Trade) {
	var lt, bbo []byte
	for c := range v.conns {
		if c.plant != Ticker || c.mdBits == 0 {
			continue
		}
		if c.mdBits&uint32(rpb.UpdateBits_UPDATE_LAST_TRADE) != 0 {
			if lt == nil {
				lt, _ = rpb.Frame(rpb.TLastTrade, v.lastTradeMsg(t))
			}
			c.send(lt)
		}
		if c.mdBits&uint32(rpb.UpdateBits_UPDATE_BBO) != 0 {
			if bbo == nil {
				bbo, _ = rpb.Frame(rpb.TBestBidOffer, v.bboMsg(t))
			}
			c.send(bbo)
		}
	}
}

// pnlRequest serves the PnL plant. Caller holds v.mu.
func (v *Venue) pnlRequest(c *conn, tpl int32, m proto.Message, um []string) {
	switch r := m.(type) {
	case *rpb.RequestPnLPositionUpdates:
		if _, known := v.acct[r.AccountId]; !known {
			c.reply(rpb.TPnLUpdatesResponse, &rpb.ResponsePnLPositionUpdates{UserMsg: um, RpCode: fail("3", "unknown account")})
			return
		}
		c.pnl[r.AccountId] = r.Request != rpb.SubscribeRequest_UNSUBSCRIBE
		c.reply(rpb.TPnLUpdatesResponse, &rpb.ResponsePnLPositionUpdates{UserMsg: um, RpCode: ok})
	case *rpb.RequestPnLPositionSnapshot:
		if _, known := v.acct[r.AccountId]; !known {
			c.reply(rpb.TPnLSnapshotResponse, &rpb.ResponsePnLPositionSnapshot{UserMsg: um, RpCode: fail("3", "unknown account")})
			return
		}
		ip, ap := v.pnlMsgs(r.AccountId)
		ip.IsSnapshot, ap.IsSnapshot = true, true
		c.reply(rpb.TInstrumentPnL, ip)
		c.reply(rpb.TAccountPnL, ap)
		c.reply(rpb.TPnLSnapshotResponse, &rpb.ResponsePnLPositionSnapshot{UserMsg: um, RpCode: ok})
	default:
		c.reply(rpb.TReject, &rpb.Reject{UserMsg: um, RpCode: fail("3", fmt.Sprintf("template %d is not served here", tpl))})
	}
}

// pnlMsgs is an account's position and PnL: the engine's, in currency at
// the configured tick value.
func (v *Venue) pnlMsgs(account string) (*rpb.InstrumentPnLPositionUpdate, *rpb.AccountPnLPositionUpdate) {
	p, _ := v.sim.Position(account)
	a := v.acct[account]
	ts := v.nowLocked()
	ip := &rpb.InstrumentPnLPositionUpdate{FcmId: v.cfg.FCM, IbId: v.cfg.IB, AccountId: account, Symbol: v.cfg.Symbol,
		Exchange: v.cfg.Exchange, FillBuyQty: int32(a.bought), FillSellQty: int32(a.sold), NetQuantity: int32(p.Qty),
		OpenPositionQuantity: int32(abs(p.Qty)), DayClosedPnl: float64(p.Realized) * v.cfg.TickValue,
		ClosedPositionPnl: fmt.Sprintf("%.2f", float64(p.Realized)*v.cfg.TickValue), Ssboe: int32(ts / 1e9), Usecs: int32(ts % 1e9 / 1e3)}
	if p.Qty != 0 {
		ip.AvgOpenFillPrice = float64(p.CostTick) / float64(p.Qty) / market.TicksPerPoint
		if v.hasLast {
			open := float64(p.Qty*int64(v.last.Price)-p.CostTick) * v.cfg.TickValue
			ip.DayOpenPnl, ip.OpenPositionPnl = open, fmt.Sprintf("%.2f", open)
		}
	}
	ip.DayPnl = ip.DayOpenPnl + ip.DayClosedPnl
	ap := &rpb.AccountPnLPositionUpdate{FcmId: v.cfg.FCM, IbId: v.cfg.IB, AccountId: account, FillBuyQty: ip.FillBuyQty,
		FillSellQty: ip.FillSellQty, NetQuantity: ip.NetQuantity, OpenPositionPnl: ip.OpenPositionPnl,
		ClosedPositionPnl: ip.ClosedPositionPnl, DayClosedPnl: fmt.Sprintf("%.2f", ip.DayClosedPnl),
		DayPnl: fmt.Sprintf("%.2f", ip.DayPnl), DayOpenPnl: fmt.Sprintf("%.2f", ip.DayOpenPnl), Ssboe: ip.Ssboe, Usecs: ip.Usecs,
		// The venue charges no commissions: the cash is the starting
		// balance and the closed PnL, the balance that and the open PnL.
		CashOnHand:     fmt.Sprintf("%.2f", v.cfg.StartingBalance+ip.DayClosedPnl),
		AccountBalance: fmt.Sprintf("%.2f", v.cfg.StartingBalance+ip.DayClosedPnl+ip.DayOpenPnl)}
	return ip, ap
}

// pnlPushLocked sends an account's PnL to its update subscribers.
func (v *Venue) pnlPushLocked(account string) {
	var ib, ab []byte
	for c := range v.conns {
		if c.plant != PnL || !c.pnl[account] {
			continue
		}
		if ib == nil {
			ip, ap := v.pnlMsgs(account)
			ib, _ = rpb.Frame(rpb.TInstrumentPnL, ip)
			ab, _ = rpb.Frame(rpb.TAccountPnL, ap)
		}
		c.send(ib)
		c.send(ab)
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
