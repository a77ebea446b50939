// This file is the Tradovate wire format as the venue serves it. It is
// written apart from the connector's on purpose: each side is checked
// against the other in the tests, not against a shared struct.

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
	ID         int64   `json:"id"`
	OrderID    int64   `json:"orderId"`
	ContractID int64   `json:"contractId"`
	Timestamp  string  `json:"timestamp"`
	Action     string  `json:"action"`
	Qty        int64   `json:"qty"`
	Price      float64 `json:"price"`
	Active     bool    `json:"active"`
}

type positionEnt struct {
	ID          int64   `json:"id"`
	AccountID   int64   `json:"accountId"`
	ContractID  int64   `json:"contractId"`
	Timestamp   string  `json:"timestamp"`
	NetPos      int64   `json:"netPos"`
	NetPrice    float64 `json:"netPrice"`
	Bought      int64   `json:"bought"`
	BoughtValue float64 `json:"boughtValue"`
	Sold        int64   `json:"sold"`
	SoldValue   float64 `json:"soldValue"`
}

type execReportEnt struct {
	ID           int64   `json:"id"`
	AccountID    int64   `json:"accountId"`
	ContractID   int64   `json:"contractId"`
	OrderID      int64   `json:"orderId"`
	Timestamp    string  `json:"timestamp"`
	ExecType     string  `json:"execType"`
	OrdStatus    string  `json:"ordStatus"`
	Action       string  `json:"action"`
	CumQty       int64   `json:"cumQty"`
	LeavesQty    int64   `json:"leavesQty"` // FIX-style; see docs/tradovate.md
	AvgPx        float64 `json:"avgPx,omitempty"`
	LastQty      int64   `json:"lastQty,omitempty"`
	LastPx       float64 `json:"lastPx,omitempty"`
	RejectReason string  `json:"rejectReason,omitempty"`
	Text         string  `json:"text,omitempty"`
}

type syncSnapshot struct {
	Users            []userEnt         `json:"users"`
	Accounts         []accountEnt      `json:"accounts"`
	Contracts        []contractEnt     `json:"contracts"`
	Orders           []orderEnt        `json:"orders"`
	OrderVersions    []orderVersionEnt `json:"orderVersions"`
	Commands         []commandEnt      `json:"commands"`
	Fills            []fillEnt         `json:"fills"`
	Positions        []positionEnt     `json:"positions"`
	ExecutionReports []execReportEnt   `json:"executionReports"`
}

type syncRequest struct {
	SplitResponses bool     `json:"splitResponses"`
	Users          []int64  `json:"users"`
	Accounts       []int64  `json:"accounts"`
	EntityTypes    []string `json:"entityTypes"`
}

type tickPacket struct {
	ID  int64     `json:"id"`
	S   string    `json:"s"`
	TD  int64     `json:"td"`
	BP  int64     `json:"bp"`
	BT  int64     `json:"bt"`
	TS  float64   `json:"ts"`
	Tks []tickRaw `json:"tks"`
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
