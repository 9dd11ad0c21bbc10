// A Node replica on @socket.io/redis-streams-adapter 0.3.1 with connection
// state recovery, speaking the hub's join/publish contract, for the mixed
// Go/Node cluster test. Usage: node node-replica.js REDIS_URL
// Prints "LISTEN http://127.0.0.1:<port>" when ready. GET
// /ctl/emit?room=R&event=E&data=JSON makes it emit E(data) to room R
// (io.to(R).emit, through the streams adapter).
// NODE_PATH must point at tests/node/node_modules.
"use strict";
const http = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-streams-adapter");

async function main() {
  const redis = createClient({ url: process.argv[2] });
  redis.on("error", () => {});
  await redis.connect();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    if (u.pathname === "/ctl/emit") {
      io.to(u.searchParams.get("room")).emit(u.searchParams.get("event"), JSON.parse(u.searchParams.get("data")));
      res.end("ok");
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  const io = new Server(server, {
    adapter: createAdapter(redis),
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
  });
  io.on("connection", (socket) => {
    console.log(`CONNECTION ${socket.id} recovered=${socket.recovered} rooms=${[...socket.rooms].join(",")}`);
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack({ ok: true });
    });
    socket.on("publish", (room, event, payload, ack) => {
      socket.to(room).emit(event, payload);
      if (typeof ack === "function") ack({ ok: true });
    });
  });
  server.listen(0, "127.0.0.1", () => {
    // the adapter starts reading the stream from "$" once its reader client
    // is connected: give it a moment before taking clients
    setTimeout(() => console.log(`LISTEN http://127.0.0.1:${server.address().port}`), 500);
  });
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
