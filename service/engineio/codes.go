package engineio

import (
	"errors"
	"net/http"
)

// ErrorCode is an Engine.IO handshake/request error code, sent to the client as
// the "code" member of the JSON error body.
type ErrorCode int

// Engine.IO v4 error codes (the table of Node engine.io's Server.errors).
const (
	CodeUnknownTransport    ErrorCode = 0
	CodeUnknownSID          ErrorCode = 1
	CodeBadHandshakeMethod  ErrorCode = 2
	CodeBadRequest          ErrorCode = 3
	CodeForbidden           ErrorCode = 4
	CodeUnsupportedProtocol ErrorCode = 5
)

// codeInfo is one row of the error table: the message Node sends and the HTTP
// status of a polling response carrying it.
type codeInfo struct {
	message string
	status  int
}

var codeTable = map[ErrorCode]codeInfo{
	CodeUnknownTransport:    {"Transport unknown", http.StatusBadRequest},
	CodeUnknownSID:          {"Session ID unknown", http.StatusBadRequest},
	CodeBadHandshakeMethod:  {"Bad handshake method", http.StatusBadRequest},
	CodeBadRequest:          {"Bad request", http.StatusBadRequest},
	CodeForbidden:           {"Forbidden", http.StatusForbidden},
	CodeUnsupportedProtocol: {"Unsupported protocol version", http.StatusBadRequest},
}

// Message returns the human-readable message Node engine.io sends for c.
func (c ErrorCode) Message() string { return codeTable[c].message }

// Status returns the HTTP status used for c on polling requests.
func (c ErrorCode) Status() int {
	if i, ok := codeTable[c]; ok {
		return i.status
	}
	return http.StatusBadRequest
}

// shuttingDownMessage is the error message of the 503 answered to handshakes
// once Server.Close has been called (not an Engine.IO code of its own: the body
// carries CodeBadRequest).
const shuttingDownMessage = "Server shutting down"

// Close reasons passed to ConnHandler.OnClose (Node engine.io strings where
// they exist).
const (
	ReasonTransportClose     = "transport close"
	ReasonTransportError     = "transport error"
	ReasonPingTimeout        = "ping timeout"
	ReasonParseError         = "parse error"
	ReasonForcedClose        = "forced close"         // Conn.Close
	ReasonServerShuttingDown = "server shutting down" // Server.Close / drain
	ReasonSlowConsumer       = "slow consumer"        // write queue full
)

// Sentinel errors.
var (
	ErrClosed    = errors.New("engineio: session closed")
	ErrQueueFull = errors.New("engineio: write queue full")
)
