// A Node replica: npm socket.io + @socket.io/redis-adapter (classic
// createAdapter or createShardedAdapter), speaking the same control
// protocol as ../testserver. Usage: node node-server.js REDIS_URL MODE NAME
// Prints "LISTEN http://ADDR" once subscribed.
"use strict";
const nm = require("./nm");
const http = require("http");
const { Server } = nm("socket.io");
const { createAdapter, createShardedAdapter } = nm("@socket.io/redis-adapter");
const { createClient } = nm("redis");

const [redisURL, mode, name] = process.argv.slice(2);

async function main() {
  const pub = createClient({ url: redisURL });
  const sub = pub.duplicate();
  pub.on("error", () => {});
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const adapter = mode === "sharded" ? createShardedAdapter(pub, sub) : createAdapter(pub, sub, { requestsTimeout: 3000 });
  const io = new Server(httpServer, { adapter });
  const nsp = io.of("/");

  nsp.on("sse", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    nsp.local.emit("got-sse", name, ...args);
    if (ack) ack("pong-" + name);
  });

  io.on("connection", (socket) => {
    socket.data = { node: name };
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (ack) ack({ ok: true });
    });
    socket.on("publish", (room, event, payload, ack) => {
      socket.to(room).emit(event, payload);
      if (ack) ack({ ok: true });
    });
    socket.on("cmd", async (c, ack) => {
      try {
        ack(await handle(io, nsp, c));
      } catch (e) {
        ack({ err: String(e && e.message) });
      }
    });
  });

  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  // let the SUBSCRIBE/SSUBSCRIBE commands reach Redis
  await new Promise((r) => setTimeout(r, 100));
  console.log(`LISTEN http://127.0.0.1:${httpServer.address().port}`);
  const stop = () => { io.close(); pub.quit().catch(() => {}); sub.quit().catch(() => {}); process.exit(0); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function handle(io, nsp, c) {
  let op = nsp.to(c.rooms || []).except(c.except || []);
  const args = c.args || [];
  switch (c.op) {
    case "emit":
      op.emit(c.event, ...args);
      return null;
    case "emitAck":
      return await new Promise((resolve) => {
        op.timeout(c.timeout).emit(c.event, ...args, (err, responses) => {
          resolve({ err: err ? err.message : null, responses });
        });
      });
    case "fetch": {
      const sockets = await op.fetchSockets();
      return { err: null, sockets: sockets.map((s) => ({ id: s.id, data: s.data, rooms: [...s.rooms] })) };
    }
    case "socketsJoin":
      op.socketsJoin(c.join);
      return null;
    case "socketsLeave":
      op.socketsLeave(c.join);
      return null;
    case "disconnect":
      op.disconnectSockets(true);
      return null;
    case "sse":
      nsp.serverSideEmit(c.event, ...args);
      return null;
    case "sseAck":
      try {
        const responses = await nsp.serverSideEmitWithAck(c.event, ...args);
        return { err: null, responses };
      } catch (e) {
        return { err: e.message, responses: [] };
      }
  }
  return "unknown op " + c.op;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
