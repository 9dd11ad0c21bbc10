// Package wire encodes and decodes the Redis messages exchanged by
// @socket.io/redis-adapter 8.x (classic and sharded modes) and by
// @socket.io/redis-emitter, byte for byte as Node's notepack.io and
// JSON.stringify produce them.
//
// Event arguments travel as a [Value]: an ordered tree that keeps map key
// order, integer-versus-float distinctions and binary blobs, so a message
// decoded from a Node peer re-encodes to the same bytes. [Value.Deconstruct]
// and [Reconstruct] convert between a Value and the Socket.IO wire form (JSON
// with {"_placeholder":true,"num":i} markers plus binary attachments).
//
// Everything in this package is pure: no I/O, no goroutines. Values are
// immutable once built and safe to share between goroutines. Decoders never
// panic on malformed input; they return an error wrapping [ErrMalformed].
package wire
