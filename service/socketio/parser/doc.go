// Package parser is the Socket.IO v5 packet codec: it encodes packets into
// Engine.IO message frames (a text frame followed by one binary frame per
// attachment) and decodes frames back into packets, reassembling binary
// attachments from the binary frames that follow a BINARY_EVENT or
// BINARY_ACK header.
//
// Wire format: <type>[<attachments>-][<nsp>,][<ackId>][JSON]. The namespace
// is written only when it is not "/". Event and ack arguments are kept as
// raw JSON (json.RawMessage) so that echoing an argument preserves its exact
// bytes and key order; binary arguments are []byte.
//
// The decoder validates packets the way the reference socket.io-parser does
// (unknown type, bad attachment count, non-numeric ack id, invalid payload
// for the packet type, reserved event names) and bounds the number of
// attachments a client may announce.
//
// Concurrency: Encode is safe for concurrent use. A Decoder holds the state
// of one connection and must be used by one goroutine at a time.
package parser
