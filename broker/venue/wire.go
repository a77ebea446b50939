// This file is the Tradovate wire format as the venue serves it. It is
// written apart from the connector's on purpose: both are checked against
// the same oracle, payloads recorded from Tradovate's published swagger
// (services.swagger.yaml, components/schemas, in the public
// tradovate/example-api-csharp-trading repository) and tutorials, in
// broker/tradovate/testdata/wire (TestWireOracle on each side): the venue
// may emit only fields the real schema has.

package venue

import "context"

var bg = context.Background()

const userID = 5001

type accessTokenRequest struct {
	Name       string `json:"name"`
	Password   string `json:"password"`
	AppID      string `json:"appId"`
	AppVersion string `json:"appVersion"`
	CID        any    `json:"cid"`
	Sec        string `json:"sec"`
	DeviceID   string `json:"deviceId"`
}

type accessTokenResponse struct {
	ErrorText      string `json:"errorText,omitempty"`
	AccessToken    string `json:"accessToken,omitempty"`
	MDAccessToken  string `json:"mdAccessToken,omitempty"`
	ExpirationTime string `json:"expirationTime,omitempty"`
	UserID         int64  `json:"userId,omitempty"`
	Name           string `json:"name,omitempty"`
	UserStatus     string `json:"userStatus,omitempty"`
}

type accountEnt struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	UserID      int64  `json:"userId"`
	AccountType string `json:"accountType"`
	Active      bool   `json:"active"`
}

type contractEnt struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type userEnt struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

type orderReq struct {
	AccountSpec string    `json:"accountSpec"`
	AccountID   int64     `json:"accountId"`
	ClOrdID     string    `json:"clOrdId"`
	Action      string    `json:"action"`
	Symbol      string    `json:"symbol"`
	OrderQty    int64     `json:"orderQty"`
	OrderType   string    `json:"orderType"`
	Price       *float64  `json:"price"`
	StopPrice   *float64  `json:"stopPrice"`
	TimeInForce string    `json:"timeInForce"`
	Text        string    `json:"text"`
	IsAutomated bool      `json:"isAutomated"`
	Bracket1    *orderReq `json:"bracket1"`
	Bracket2    *orderReq `json:"bracket2"`
	Other       *orderReq `json:"other"`
}

// simpleResponse is the swagger's SimpleResponse {ok, errorText}
// (order/liquidatepositions).
type simpleResponse struct {
	OK        bool   `json:"ok"`
	ErrorText string `json:"errorText,omitempty"`
}

// liquidatePositionsReq is order/liquidatepositions' body: position ids
// (partner API reference, Orders, Liquidate Positions).
type liquidatePositionsReq struct {
	Positions   []int64 `json:"positions"`
	Admin       bool    `json:"admin"`
	IsAutomated bool    `json:"isAutomated"`
}

type placeResult struct {
	FailureReason string `json:"failureReason,omitempty"`
	FailureText   string `json:"failureText,omitempty"`
	OrderID       int64  `json:"orderId,omitempty"`
	OSO1ID        int64  `json:"oso1Id,omitempty"`
	OSO2ID        int64  `json:"oso2Id,omitempty"`
	OCOID         int64  `json:"ocoId,omitempty"`
}

type modifyReq struct {
	OrderID     int64    `json:"orderId"`
	OrderQty    int64    `json:"orderQty"`
	OrderType   string   `json:"orderType"`
	Price       *float64 `json:"price"`
	StopPrice   *float64 `json:"stopPrice"`
	TimeInForce string   `json:"timeInForce"`
	IsAutomated bool     `json:"isAutomated"`
}

type cancelReq struct {
	OrderID     int64 `json:"orderId"`
	IsAutomated bool  `json:"isAutomated"`
}

type liquidateReq struct {
	AccountID   int64 `json:"accountId"`
	ContractID  int64 `json:"contractId"`
	Admin       bool  `json:"admin"`
	IsAutomated bool  `json:"isAutomated"`
}

type commandResult struct {
	FailureReason string `json:"failureReason,omitempty"`
	FailureText   string `json:"failureText,omitempty"`
	CommandID     int64  `json:"commandId,omitempty"`
}

type orderEnt struct {
	ID         int64  `json:"id"`
	AccountID  int64  `json:"accountId"`
	ContractID int64  `json:"contractId"`
	Timestamp  string `json:"timestamp"`
	Action     string `json:"action"`
	OrdStatus  string `json:"ordStatus"`
	Admin      bool   `json:"admin"`
	OCOID      int64  `json:"ocoId,omitempty"`
	ParentID   int64  `json:"parentId,omitempty"`
}

// tradeDate is the swagger's TradeDate {year, month, day}.
type tradeDate struct {
	Year  int `json:"year"`
	Month int `json:"month"`
	Day   int `json:"day"`
}

type orderVersionEnt struct {
	ID          int64    `json:"id"`
	OrderID     int64    `json:"orderId"`
	OrderQty    int64    `json:"orderQty"`
	OrderType   string   `json:"orderType"`
	Price       *float64 `json:"price,omitempty"`
	StopPrice   *float64 `json:"stopPrice,omitempty"`
	TimeInForce string   `json:"timeInForce"`
	Text        string   `json:"text,omitempty"`
}

type commandEnt struct {
	ID            int64  `json:"id"`
	OrderID       int64  `json:"orderId"`
	Timestamp     string `json:"timestamp"`
	ClOrdID       string `json:"clOrdId"`
	CommandType   string `json:"commandType"`
	CommandStatus string `json:"commandStatus"`
	IsAutomated   bool   `json:"isAutomated"`
}

type fillEnt struct {
	ID         int64     `json:"id"`
	OrderID    int64     `json:"orderId"`
	ContractID int64     `json:"contractId"`
	Timestamp  string    `json:"timestamp"`
	TradeDate  tradeDate `json:"tradeDate"`
	Action     string    `json:"action"`
	Qty        int64     `json:"qty"`
	Price      float64   `json:"price"`
	Active     bool      `json:"active"` // false once busted (TradeCancel)
}

// positionEnt: netPrice is absent while the position is only what was
// carried from an earlier trade date (prevPos at prevPrice), as the
// tutorial's open-PnL code expects (example-api-js EX-12: "netPrice ?
// netPrice : prevPrice").
type positionEnt struct {
	ID          int64     `json:"id"`
	AccountID   int64     `json:"accountId"`
	ContractID  int64     `json:"contractId"`
	Timestamp   string    `json:"timestamp"`
	TradeDate   tradeDate `json:"tradeDate"`
	NetPos      int64     `json:"netPos"`
	NetPrice    *float64  `json:"netPrice,omitempty"`
	Bought      int64     `json:"bought"`
	BoughtValue float64   `json:"boughtValue"`
	Sold        int64     `json:"sold"`
	SoldValue   float64   `json:"soldValue"`
	PrevPos     int64     `json:"prevPos"`
	PrevPrice   *float64  `json:"prevPrice,omitempty"`
}

// execReportEnt has no leavesQty: the swagger's ExecutionReport has none
// (clients derive it from the order version's orderQty − cumQty).
// execRefId names, for TradeCancel and TradeCorrect, the report of the
// trade busted or corrected.
type execReportEnt struct {
	ID           int64   `json:"id"`
	CommandID    int64   `json:"commandId,omitempty"`
	AccountID    int64   `json:"accountId"`
	ContractID   int64   `json:"contractId"`
	OrderID      int64   `json:"orderId"`
	Timestamp    string  `json:"timestamp"`
	ExecType     string  `json:"execType"`
	ExecRefID    string  `json:"execRefId,omitempty"`
	OrdStatus    string  `json:"ordStatus"`
	Action       string  `json:"action"`
	CumQty       int64   `json:"cumQty"`
	AvgPx        float64 `json:"avgPx,omitempty"`
	LastQty      int64   `json:"lastQty,omitempty"`
	LastPx       float64 `json:"lastPx,omitempty"`
	RejectReason string  `json:"rejectReason,omitempty"`
	Text         string  `json:"text,omitempty"`
}

// accountRiskStatusEnt: the broker's own risk state of an account (its id
// is the account's). Fields as the partner API reference documents
// AccountRiskStatus (adminAction, adminTimestamp, liquidateOnly,
// userTriggeredLiqOnly).
type accountRiskStatusEnt struct {
	ID                   int64  `json:"id"`
	AdminAction          string `json:"adminAction,omitempty"`
	AdminTimestamp       string `json:"adminTimestamp,omitempty"`
	LiquidateOnly        string `json:"liquidateOnly,omitempty"`
	UserTriggeredLiqOnly bool   `json:"userTriggeredLiqOnly"`
}

// userAccountAutoLiqEnt: the broker-side auto-liquidation settings (the
// swagger's UserAccountAutoLiq; "id should be the same as account's id",
// example-api-csharp-trading Tradovate.Samples/Risks.cs SetDailyLossLimit).
type userAccountAutoLiqEnt struct {
	ID                  int64    `json:"id"`
	ChangesLocked       bool     `json:"changesLocked"`
	DailyLossAutoLiq    *float64 `json:"dailyLossAutoLiq,omitempty"`
	FlattenTimestamp    string   `json:"flattenTimestamp,omitempty"`
	TrailingMaxDrawdown *float64 `json:"trailingMaxDrawdown,omitempty"`
}

// cashBalanceEnt is the swagger's CashBalance.
type cashBalanceEnt struct {
	ID          int64     `json:"id"`
	AccountID   int64     `json:"accountId"`
	Timestamp   string    `json:"timestamp"`
	TradeDate   tradeDate `json:"tradeDate"`
	CurrencyID  int64     `json:"currencyId"`
	Amount      float64   `json:"amount"`
	RealizedPnL float64   `json:"realizedPnL"`
}

// cashBalanceSnapshot is the swagger's CashBalanceSnapshot
// (cashBalance/getcashbalancesnapshot).
type cashBalanceSnapshot struct {
	ErrorText      string  `json:"errorText,omitempty"`
	TotalCashValue float64 `json:"totalCashValue"`
	TotalPnL       float64 `json:"totalPnL"`
	NetLiq         float64 `json:"netLiq"`
	OpenPnL        float64 `json:"openPnL"`
	RealizedPnL    float64 `json:"realizedPnL"`
}

type syncSnapshot struct {
	Users               []userEnt               `json:"users"`
	Accounts            []accountEnt            `json:"accounts"`
	AccountRiskStatuses []accountRiskStatusEnt  `json:"accountRiskStatuses"`
	UserAccountAutoLiqs []userAccountAutoLiqEnt `json:"userAccountAutoLiqs"`
	CashBalances        []cashBalanceEnt        `json:"cashBalances"`
	Contracts           []contractEnt           `json:"contracts"`
	Orders              []orderEnt              `json:"orders"`
	OrderVersions       []orderVersionEnt       `json:"orderVersions"`
	Commands            []commandEnt            `json:"commands"`
	Fills               []fillEnt               `json:"fills"`
	Positions           []positionEnt           `json:"positions"`
	ExecutionReports    []execReportEnt         `json:"executionReports"`
}

type syncRequest struct {
	SplitResponses bool     `json:"splitResponses"`
	Users          []int64  `json:"users"`
	Accounts       []int64  `json:"accounts"`
	EntityTypes    []string `json:"entityTypes"`
}

// tickPacket is one tick-chart packet (example-api-js
// tutorial/WebSockets/EX-11-Tick-Charts/README.md), or with EOH the
// end-of-history marker {id, eoh: true} that carries nothing else
// (example-api-faq docs/HowToHandleDataSizeLimits.md).
type tickPacket struct {
	ID  int64     `json:"id"`
	S   string    `json:"s,omitempty"`
	TD  int64     `json:"td,omitempty"`
	BP  int64     `json:"bp,omitempty"`
	BT  int64     `json:"bt,omitempty"`
	TS  float64   `json:"ts,omitempty"`
	EOH bool      `json:"eoh,omitempty"`
	Tks []tickRaw `json:"tks,omitempty"`
}

type tickRaw struct {
	T  int64 `json:"t"`
	P  int64 `json:"p"`
	S  int64 `json:"s"`
	B  int64 `json:"b"`
	A  int64 `json:"a"`
	BS int64 `json:"bs"`
	AS int64 `json:"as"`
	ID int64 `json:"id"`
}
