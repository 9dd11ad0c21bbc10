// Scenario driver: connects real socket.io-client sockets to every server of
// a cluster and checks cross-server behaviour through the control protocol
// of ../testserver and node-server.js. Prints "PASS name" / "FAIL name:
// why" per check and a final "summary passed=N failed=M" line; exits 1 on
// failure.
// Usage: node driver.js '{"servers":[{"name","url"}],"redis":"redis://..","mode":"classic","emitter":true}'
// With mode "streams" the servers are hub processes (only the hub's client
// contract: join, publish) with connection state recovery on, and the
// scenario is @socket.io/redis-emitter's (emitterIntoStreams).
"use strict";
const nm = require("./nm");
const { io } = nm("socket.io-client");

const cfg = JSON.parse(process.argv[2]);
const servers = cfg.servers;
let passed = 0;
let failed = 0;

function log(line) {
  process.stdout.write(line + "\n");
}

async function check(name, fn) {
  try {
    await fn();
    passed++;
    log("PASS " + name);
  } catch (e) {
    failed++;
    log("FAIL " + name + ": " + (e && e.message));
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what, cond, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await sleep(10);
  }
  throw new Error("timed out waiting for " + what);
}

async function poll(what, fn, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error("timed out waiting for " + what);
}

// roomSubscribed waits, in sharded mode, until Redis counts n shard
// subscribers of the room's channel (servers subscribe asynchronously).
async function roomSubscribed(room, n) {
  if (cfg.mode !== "sharded") return;
  const { createClient } = nm("redis");
  const client = createClient({ url: cfg.redis });
  await client.connect();
  try {
    await poll(`${room} channel subscribed`, async () => {
      const res = await client.sendCommand(["PUBSUB", "SHARDNUMSUB", `socket.io#/#${room}#`]);
      return Number(res[1]) === n;
    });
  } finally {
    await client.quit();
  }
}

async function fetchIDs(client, room) {
  const r = await client.cmd({ op: "fetch", rooms: [room] });
  return r.sockets.map((x) => x.id).sort();
}

function eq(a, b, what) {
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  if (ja !== jb) throw new Error(`${what}: got ${ja}, want ${jb}`);
}

class Client {
  constructor(name, server, opts = {}) {
    this.name = name;
    this.server = server;
    this.events = [];
    this.disconnectReason = null;
    this.socket = io(server.url, { transports: ["websocket"], reconnection: false, forceNew: true, ...opts });
    this.socket.onAny((event, ...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      this.events.push({ event, args });
      if (event === "q" && ack) ack("ack-" + this.name);
      if (event === "qb" && ack) ack(Buffer.from("bin-" + this.name));
    });
    this.socket.on("disconnect", (reason) => {
      this.disconnectReason = reason;
    });
  }
  connected() {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once("connect", resolve);
      this.socket.once("connect_error", reject);
    });
  }
  got(event) {
    return this.events.find((e) => e.event === event);
  }
  all(event) {
    return this.events.filter((e) => e.event === event);
  }
  async join(room) {
    const res = await this.socket.timeout(5000).emitWithAck("join", room);
    if (!res || res.ok !== true) throw new Error("join failed");
  }
  cmd(c) {
    return this.socket.timeout(8000).emitWithAck("cmd", c);
  }
}

function finish() {
  log(`summary passed=${passed} failed=${failed}`);
  process.exit(failed ? 1 : 0);
}

const OFFSET = /^\d+-\d+$/;

// emitterIntoStreams: hub replicas in streams mode with recovery on, and
// @socket.io/redis-emitter publishing into them. Stream events (publish)
// carry their entry id as last argument; emitter events carry the id of
// the last entry their replica delivered, so a client's offset stays one
// it can recover from.
async function emitterIntoStreams() {
  const n = servers.length;
  const A = new Client("A", servers[0], { reconnection: true, reconnectionDelay: 1500, randomizationFactor: 0 });
  const B = new Client("B", servers[1 % n]);
  const C = new Client("C", servers[2 % n]);
  const X = new Client("X", servers[1 % n]);
  const P = new Client("P", servers[2 % n]); // publishes stream events
  const all = [A, B, C, X, P];
  const inRoom = [A, B, C];
  await Promise.all(all.map((c) => c.connected()));
  await A.join("room");
  await B.join("room");
  await B.join("vip");
  await C.join("room");
  const publish = async (event, payload) => {
    const res = await P.socket.timeout(5000).emitWithAck("publish", "room", event, payload);
    if (!res || res.ok !== true) throw new Error("publish " + event + ": " + JSON.stringify(res));
  };
  const { Emitter } = nm("@socket.io/redis-emitter");
  const { createClient } = nm("redis");
  const redis = createClient({ url: cfg.redis });
  await redis.connect();
  const emitter = new Emitter(redis);
  let s1;

  await check("a stream event reaches the room with its offset", async () => {
    await publish("s1", { n: 1 });
    for (const c of inRoom) await waitFor(`${c.name} gets s1`, () => c.got("s1"));
    s1 = A.got("s1").args[1];
    if (!OFFSET.test(s1)) throw new Error("s1 offset " + JSON.stringify(s1));
    for (const c of inRoom) eq(c.got("s1").args, [{ n: 1 }, s1], `${c.name} s1`);
  });

  await check("emitter io.emit, to(room), except, to(socket id), socketsJoin reach each client once", async () => {
    emitter.emit("e-all", "hello");
    emitter.to("room").emit("e-room", 1, { x: true }, Buffer.from([9]));
    emitter.to("room").except("vip").emit("e-except");
    emitter.to(X.socket.id).emit("e-direct");
    emitter.to(["room", "vip"]).emit("e-rooms");
    emitter.in("vip").socketsJoin("joined");
    emitter.to("joined").emit("e-joined"); // after the join: one connection, one order
    emitter.volatile.emit("e-volatile");
    emitter.emit("e-end");
    for (const c of all) await waitFor(`${c.name} gets e-end`, () => c.got("e-end"));
    const want = {
      A: ["e-all", "e-room", "e-except", "e-rooms", "e-volatile", "e-end"],
      B: ["e-all", "e-room", "e-rooms", "e-joined", "e-volatile", "e-end"],
      C: ["e-all", "e-room", "e-except", "e-rooms", "e-volatile", "e-end"],
      X: ["e-all", "e-direct", "e-volatile", "e-end"],
      P: ["e-all", "e-volatile", "e-end"],
    };
    for (const c of all) {
      eq(c.events.map((e) => e.event).filter((e) => e.startsWith("e-")), want[c.name], `${c.name} events`);
    }
    // every replica delivered s1 last: that is the offset emitter events carry
    for (const c of all) eq(c.got("e-all").args, ["hello", s1], `${c.name} e-all args`);
    for (const c of inRoom) {
      const ev = c.got("e-room");
      eq(ev.args.slice(0, 2), [1, { x: true }], `${c.name} e-room args`);
      eq([...new Uint8Array(ev.args[2])], [9], `${c.name} e-room binary`);
      eq(ev.args[3], s1, `${c.name} e-room offset`);
    }
    eq(A.got("e-volatile").args, [], "volatile events carry no offset");
  });

  await check("recovery after an emitter event replays exactly the missed stream events", async () => {
    emitter.to("room").emit("e-last", "not-an-offset");
    await waitFor("A gets e-last", () => A.got("e-last"));
    eq(A.got("e-last").args, ["not-an-offset", s1], "e-last args");
    const reconnected = new Promise((resolve) => A.socket.once("connect", resolve));
    // the transport dies ("forced close" on the client, "transport close"
    // on the hub, which keeps the session); the client reconnects after 1.5 s
    A.socket.io.engine.close();
    await waitFor("A disconnected", () => A.disconnectReason !== null);
    await publish("s2", 2);
    emitter.to("room").emit("e-missed");
    await publish("s3", 3);
    for (const c of [B, C]) await waitFor(`${c.name} gets s3`, () => c.got("s3"));
    await reconnected;
    eq(A.socket.recovered, true, "socket.recovered");
    await waitFor("A gets s3", () => A.got("s3"));
    eq(A.all("s1").length, 1, "s1 is not replayed");
    eq([A.all("s2").length, A.all("s3").length], [1, 1], "s2 and s3 once");
    eq(A.got("s2").args, [2, C.got("s2").args[1]], "s2 with its entry id");
    eq(A.got("s3").args, [3, C.got("s3").args[1]], "s3 with its entry id");
    if (A.got("e-missed")) throw new Error("an emitter event was replayed (it is not in the stream)");
    emitter.to("room").emit("e-after");
    await waitFor("A gets e-after", () => A.got("e-after"));
    eq(A.got("e-after").args, [C.got("s3").args[1]], "e-after carries s3's offset");
  });

  await check("emitter disconnectSockets", async () => {
    emitter.in("vip").disconnectSockets(true);
    await waitFor("B disconnected", () => B.disconnectReason !== null);
    eq(B.disconnectReason, "io server disconnect", "reason");
    await publish("s4", 4);
    for (const c of [A, C]) await waitFor(`${c.name} gets s4`, () => c.got("s4"));
    if (C.disconnectReason || X.disconnectReason || P.disconnectReason) throw new Error("a socket outside vip was disconnected");
  });

  await redis.quit();
  for (const c of all) c.socket.close();
  finish();
}

async function main() {
  if (cfg.mode === "streams") return emitterIntoStreams();
  const n = servers.length;
  // A on server 0, B (and X) on server 1, C on server 2 (or the last server)
  const A = new Client("A", servers[0]);
  const B = new Client("B", servers[1 % n]);
  const C = new Client("C", servers[2 % n]);
  const X = new Client("X", servers[1 % n]);
  const all = [A, B, C, X];
  await Promise.all(all.map((c) => c.connected()));
  await A.join("room");
  await B.join("room");
  await B.join("vip");
  await C.join("room");
  await roomSubscribed("room", new Set([A, B, C].map((c) => c.server)).size);
  await roomSubscribed("vip", 1);
  const inRoom = [A, B, C];
  const ctl = [A, B, C].slice(0, n); // the client that drives server i

  for (let i = 0; i < n; i++) {
    const s = servers[i];
    const me = ctl[i];

    await check(`room broadcast from ${s.name} (binary too)`, async () => {
      await me.cmd({ op: "emit", rooms: ["room"], event: "r" + i, args: [i, { k: "v", n: [1.5, null] }, Buffer.from([1, 2, 3])] });
      for (const c of inRoom) {
        await waitFor(`${c.name} gets r${i}`, () => c.got("r" + i));
        const ev = c.got("r" + i);
        eq(ev.args.slice(0, 2), [i, { k: "v", n: [1.5, null] }], `${c.name} args`);
        eq([...new Uint8Array(ev.args[2])], [1, 2, 3], `${c.name} binary`);
      }
    });

    await check(`except from ${s.name}`, async () => {
      await me.cmd({ op: "emit", rooms: ["room"], except: ["vip"], event: "e" + i });
      await me.cmd({ op: "emit", event: "barrier-e" + i });
      for (const c of all) await waitFor(`${c.name} gets barrier`, () => c.got("barrier-e" + i));
      if (!A.got("e" + i) || !C.got("e" + i)) throw new Error("A or C missed the event");
      if (B.got("e" + i)) throw new Error("B is in the excepted room but got the event");
      if (X.got("r" + i) || X.got("e" + i)) throw new Error("X is not in the room but got a room event");
    });

    await check(`broadcast with ack from ${s.name}`, async () => {
      const res = await me.cmd({ op: "emitAck", rooms: ["room"], event: "q", timeout: 3000 });
      eq(res.err, null, "err");
      eq([...res.responses].sort(), ["ack-A", "ack-B", "ack-C"], "responses");
    });

    await check(`broadcast with binary acks from ${s.name}`, async () => {
      const res = await me.cmd({ op: "emitAck", rooms: ["room"], event: "qb", timeout: 3000, args: [Buffer.from([7, 8])] });
      eq(res.err, null, "err");
      const got = res.responses.map((b) => Buffer.from(b).toString()).sort();
      eq(got, ["bin-A", "bin-B", "bin-C"], "responses");
      for (const c of inRoom) {
        const ev = c.events.filter((e) => e.event === "qb").pop();
        eq([...new Uint8Array(ev.args[0])], [7, 8], `${c.name} binary argument`);
      }
    });

    await check(`fetchSockets from ${s.name}`, async () => {
      const res = await me.cmd({ op: "fetch", rooms: ["room"] });
      eq(res.err, null, "err");
      const got = res.sockets.map((x) => [x.id, x.data && x.data.node, x.rooms.includes("room")]).sort();
      const want = inRoom.map((c) => [c.socket.id, c.server.name, true]).sort();
      eq(got, want, "sockets");
    });

    await check(`serverSideEmit from ${s.name} (binary too)`, async () => {
      await me.cmd({ op: "sse", event: "sse", args: ["hi" + i, Buffer.from([i, 42])] });
      for (const c of all) {
        if (c.server === s) continue;
        await waitFor(`${c.name} sees got-sse`, () =>
          c.events.find((e) => e.event === "got-sse" && e.args[1] === "hi" + i && e.args[0] === c.server.name));
        const ev = c.events.find((e) => e.event === "got-sse" && e.args[1] === "hi" + i);
        if (cfg.mode === "classic") {
          // classic requests are JSON.stringify'd by @socket.io/redis-adapter:
          // a Buffer arrives as its toJSON() form, from Node and Go alike
          eq(ev.args[2], { type: "Buffer", data: [i, 42] }, `${c.name} buffer argument`);
        } else {
          eq([...new Uint8Array(ev.args[2])], [i, 42], `${c.name} binary argument`);
        }
      }
    });

    await check(`serverSideEmit with ack from ${s.name}`, async () => {
      const res = await me.cmd({ op: "sseAck", event: "sse", args: [] });
      eq(res.err, null, "err");
      const want = servers.filter((x) => x !== s).map((x) => "pong-" + x.name).sort();
      eq([...res.responses].sort(), want, "responses");
    });
  }

  const last = ctl[n - 1];
  await check(`socketsJoin from ${servers[n - 1].name}`, async () => {
    await last.cmd({ op: "socketsJoin", rooms: ["vip"], join: ["joined"] });
    await poll("fetch joined == [B]", async () => JSON.stringify(await fetchIDs(A, "joined")) === JSON.stringify([B.socket.id]));
    await roomSubscribed("joined", 1);
    await A.cmd({ op: "emit", rooms: ["joined"], event: "j" });
    await waitFor("B gets j", () => B.got("j"));
  });

  await check(`socketsLeave from ${servers[0].name}`, async () => {
    await A.cmd({ op: "socketsLeave", rooms: ["vip"], join: ["joined"] });
    await poll("fetch joined == []", async () => (await fetchIDs(A, "joined")).length === 0);
  });

  if (cfg.emitter) {
    await check("redis-emitter reaches every server's clients", async () => {
      const { Emitter } = nm("@socket.io/redis-emitter");
      const { createClient } = nm("redis");
      const client = createClient({ url: cfg.redis });
      await client.connect();
      try {
        const emitter = new Emitter(client);
        emitter.to("room").emit("from-emitter", 1, { x: true }, Buffer.from([9]));
        emitter.except("vip").emit("emitter-except");
        for (const c of inRoom) {
          await waitFor(`${c.name} gets from-emitter`, () => c.got("from-emitter"));
          const ev = c.got("from-emitter");
          eq(ev.args.slice(0, 2), [1, { x: true }], "args");
          eq([...new Uint8Array(ev.args[2])], [9], "binary");
        }
        for (const c of [A, C, X]) await waitFor(`${c.name} gets emitter-except`, () => c.got("emitter-except"));
        emitter.in("vip").socketsJoin("from-emitter-room");
        await poll("emitter socketsJoin", async () =>
          JSON.stringify(await fetchIDs(A, "from-emitter-room")) === JSON.stringify([B.socket.id]));
        if (B.got("emitter-except")) throw new Error("B is in vip but got emitter-except");
      } finally {
        await client.quit();
      }
    });
  }

  await check(`disconnectSockets from ${servers[0].name}`, async () => {
    await A.cmd({ op: "disconnect", rooms: ["vip"] });
    await waitFor("B disconnected", () => B.disconnectReason !== null);
    eq(B.disconnectReason, "io server disconnect", "reason");
    if (A.disconnectReason || C.disconnectReason || X.disconnectReason) throw new Error("a socket outside vip was disconnected");
  });

  for (const c of all) c.socket.close();
  finish();
}

main().catch((e) => {
  log("FAIL driver: " + (e && e.stack));
  log(`summary passed=${passed} failed=${failed + 1}`);
  process.exit(1);
});
