// The reference Node socket.io 4.8 server with the same handlers as the Go
// hub of harness_test.go, so every e2e scenario can run against both and
// prove that the expected outputs are Node's behaviour.
// Usage: node server.js <port> <transports: websocket|polling|both> <recovery: 0|1>
// Prints {"event":"listening","port":N}; reads JSON commands on stdin:
//   {"cmd":"emit","room":"lobby","event":"said","args":[...]}
"use strict";

const path = require("path");
const http = require("http");
const readline = require("readline");
const { Server } = require(path.join(__dirname, "..", "..", "node", "node_modules", "socket.io"));

const [portArg, transportsArg, recoveryArg] = process.argv.slice(2);
const transports = transportsArg === "websocket" ? ["websocket"] : transportsArg === "polling" ? ["polling"] : ["polling", "websocket"];

const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports,
  pingInterval: 2000,
  pingTimeout: 2000,
  cors: { origin: "*" },
  ...(recoveryArg === "1" ? { connectionStateRecovery: {} } : {}),
});

io.on("connection", (socket) => {
  socket.on("echo", (...args) => socket.emit("echo-back", ...args));
  socket.on("ack-me", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("no-ack", () => {});
  socket.on("transport", (ack) => ack(socket.conn.transport.name));
  socket.on("ask-me", () => {
    socket.timeout(5000).emit("question", "q1", (err, a) => {
      if (err) socket.emit("answer-was", "error: " + err.message);
      else socket.emit("answer-was", a);
    });
  });
  socket.on("ask-ignored", () => {
    socket.timeout(200).emit("ignore-me", (err) => socket.emit("server-timeout", err ? err.message : "no error"));
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack({ ok: true });
  });
  socket.on("say", (room, ...rest) => {
    const ack = typeof rest[rest.length - 1] === "function" ? rest.pop() : null;
    socket.to(room).emit("said", ...rest);
    if (ack) ack();
  });
  socket.on("poll-room", (room, question, ack) => {
    io.to(room).timeout(5000).emit("vote", question, (err, rs) => {
      const res = { votes: rs.map(String).sort() };
      if (err) res.error = err.message;
      ack(res);
    });
  });
  socket.on("notify-except", (room, ...rest) => {
    const ack = rest.pop();
    io.except(room).emit("said", ...rest);
    ack();
  });
  socket.on("bin-to-client", () => {
    socket.emit("bin", Buffer.from([10, 20, 30]), (a) => {
      socket.emit("bin-ack-was", Buffer.isBuffer(a) ? a : "not binary");
    });
  });
});

function welcome(socket) {
  socket.emit("welcome", socket.nsp.name);
  socket.on("echo", (...args) => socket.emit("echo-back", ...args));
}
io.of("/custom").on("connection", welcome);
io.of(/^\/dyn-\d+$/).on("connection", welcome);
io.of("/private").use((socket, next) => {
  const auth = socket.handshake.auth || {};
  if (auth.token === "good") return next();
  const err = new Error("not authorized");
  err.data = { code: 403, reason: "bad token" };
  next(err);
});

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line);
  if (cmd.cmd === "emit") io.to(cmd.room).emit(cmd.event, ...cmd.args);
});
process.stdin.on("end", () => process.exit(0));

httpServer.listen(Number(portArg), "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ event: "listening", port: httpServer.address().port }) + "\n");
});
