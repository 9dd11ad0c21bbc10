// Package hube2e holds the hub's end-to-end tests: they build the real hub
// binary (service/cmd/hub), start it on a free loopback port, and drive it
// with the real JavaScript socket.io-client (tests/node/node_modules, through
// js/puppet.js) and plain HTTP: the client contract (socket-id rooms
// private included), JWT auth, the origin allowlist, the publish API,
// metrics (ack timeouts caused by a Node socket.io replica through
// js/ackemit.js) and the SIGTERM drain.
//
// They need node and the installed Node packages; without them the tests
// skip, except when CI is set, where they fail.
package hube2e
