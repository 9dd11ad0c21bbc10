// The reference servers of the engine.io-protocol and socket.io-protocol
// test suites, in Node (engine.io 6.6 / socket.io 4.8 from tests/node), used
// to check that the Go port of the suites encodes the reference behaviour.
// Usage: node server.js <port>   (0 = random; prints {"port":N})
"use strict";

const path = require("path");
const http = require("http");
const modules = path.join(__dirname, "..", "..", "node", "node_modules");
const engine = require(path.join(modules, "engine.io"));
const { Server } = require(path.join(modules, "socket.io"));

const opts = { pingInterval: 300, pingTimeout: 200, maxHttpBufferSize: 1e6, cors: { origin: "*" } };
const httpServer = http.createServer();

const eio = new engine.Server(opts);
eio.attach(httpServer, { path: "/engine.io/" });
eio.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));

const io = new Server(httpServer, { ...opts, connectTimeout: 1000 });
function setup(socket) {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
}
io.on("connection", setup);
io.of("/custom").on("connection", setup);

process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
httpServer.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
});
