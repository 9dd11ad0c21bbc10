// Package e2e drives the real JavaScript socket.io-client (4.8, from
// tests/node/node_modules) against servers built on service/socketio:
// websocket-only, polling-only, polling → websocket upgrade, binary
// arguments and acknowledgements both ways with timeouts, custom and
// dynamic namespaces, middleware rejection, and automatic reconnection
// after a server restart.
//
// The tests need node and the installed Node packages; without them they
// skip, unless CI is set, in which case they fail.
package e2e
