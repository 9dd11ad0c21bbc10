// Package sio is the small client side of the Engine.IO v4 / Socket.IO v5
// wire that the load tool needs, on top of github.com/coder/websocket: a
// websocket-only session (?EIO=4&transport=websocket), the CONNECT handshake
// on the main namespace, pongs for the server's pings, events out (with or
// without an ack id) and events and acks in. No polling, no binary
// attachments, no reconnection: a load client that loses its connection
// reports it and stays down.
//
// Concurrency contract: Emit and EmitAck are safe for concurrent use. Every
// callback (Config.OnEvent, ack callbacks, Config.OnClose) runs on the
// client's single reader goroutine, one at a time, and must not block.
package sio
