// Drives the real socket.io-client against a hubkit server for one scenario.
// Usage: node client.js <scenario> <url> [transports]
// Prints one JSON object per line on stdout; exits 0 after {"event":"done"}.
"use strict";

const path = require("path");
const { io } = require(path.join(__dirname, "..", "..", "node", "node_modules", "socket.io-client"));

const [scenario, url, mode] = process.argv.slice(2);

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function done() {
  out({ event: "done" });
  process.exit(0);
}

function fail(msg) {
  out({ event: "fail", message: String(msg) });
  process.exit(1);
}

setTimeout(() => fail("scenario timed out"), 20000).unref();

function b64(buf) {
  return Buffer.from(buf).toString("base64");
}

function transportsFor(m) {
  if (m === "websocket") return { transports: ["websocket"] };
  if (m === "polling") return { transports: ["polling"] };
  return { transports: ["polling", "websocket"], upgrade: true };
}

const scenarios = {
  // echo over the chosen transport, then report the transport in use
  async echo() {
    const socket = io(url, { ...transportsFor(mode), reconnection: false });
    socket.on("connect_error", (err) => fail("connect_error: " + err.message));
    await new Promise((resolve) => socket.on("connect", resolve));
    if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
      await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
    }
    const back = new Promise((resolve) => socket.once("echo-back", (...args) => resolve(args)));
    socket.emit("echo", 1, "two", { three: [3], "é": null });
    out({ event: "echo-back", args: await back });
    const serverTransport = await socket.emitWithAck("transport");
    out({ event: "transport", client: socket.io.engine.transport.name, server: serverTransport });
    socket.disconnect();
    done();
  },

  // binary arguments both ways, top-level and nested
  async binary() {
    const socket = io(url, { ...transportsFor(mode), reconnection: false });
    await new Promise((resolve) => socket.on("connect", resolve));
    const back = new Promise((resolve) => socket.once("echo-back", (...args) => resolve(args)));
    socket.emit("echo", Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]), n: 1 });
    const args = await back;
    out({ event: "echo-back", top: b64(args[0]), nested: b64(args[1].nested), n: args[1].n });
    socket.on("bin", (buf, cb) => {
      out({ event: "bin", data: b64(buf) });
      cb(Buffer.from(buf).reverse());
    });
    const was = new Promise((resolve) => socket.once("bin-ack-was", resolve));
    socket.emit("bin-to-client");
    out({ event: "bin-ack-was", data: b64(await was) });
    socket.disconnect();
    done();
  },

  // acknowledgements both ways, with timeouts both ways
  async acks() {
    const socket = io(url, { ...transportsFor(mode), reconnection: false });
    await new Promise((resolve) => socket.on("connect", resolve));
    out({ event: "ack", args: await socket.emitWithAck("ack-me", "x", { y: 2 }) });
    const timedOut = await new Promise((resolve) =>
      socket.timeout(300).emit("no-ack", (err) => resolve(err ? err.message : "no error"))
    );
    out({ event: "client-timeout", message: timedOut });
    socket.on("question", (arg, cb) => cb("answer:" + arg));
    const answer = new Promise((resolve) => socket.once("answer-was", resolve));
    socket.emit("ask-me");
    out({ event: "answer-was", value: await answer });
    socket.on("ignore-me", () => {});
    const serverTimeout = new Promise((resolve) => socket.once("server-timeout", resolve));
    socket.emit("ask-ignored");
    out({ event: "server-timeout", message: await serverTimeout });
    socket.disconnect();
    done();
  },

  // custom, dynamic and unknown namespaces on one connection
  async namespaces() {
    const opts = { ...transportsFor(mode), reconnection: false };
    const main = io(url, opts);
    await new Promise((resolve) => main.on("connect", resolve));
    for (const nsp of ["/custom", "/dyn-42"]) {
      const s = io(url + nsp, opts);
      const welcome = await new Promise((resolve) => s.once("welcome", resolve));
      out({ event: "welcome", nsp, value: welcome, sameEngine: s.io === main.io });
      const back = new Promise((resolve) => s.once("echo-back", (...args) => resolve(args)));
      s.emit("echo", nsp);
      out({ event: "echo-back", nsp, args: await back });
    }
    const bad = io(url + "/nope", opts);
    const err = await new Promise((resolve) => bad.once("connect_error", resolve));
    out({ event: "connect_error", nsp: "/nope", message: err.message });
    main.disconnect();
    done();
  },

  // middleware rejection carries message and data
  async reject() {
    const socket = io(url + "/private", { ...transportsFor(mode), reconnection: false, auth: { token: "bad" } });
    const err = await new Promise((resolve) => socket.once("connect_error", resolve));
    out({ event: "connect_error", message: err.message, data: err.data });
    const ok = io(url + "/private", { ...transportsFor(mode), reconnection: false, auth: { token: "good" }, forceNew: true });
    await new Promise((resolve, reject) => {
      ok.once("connect", resolve);
      ok.once("connect_error", reject);
    });
    out({ event: "connect", nsp: "/private" });
    ok.disconnect();
    done();
  },

  // rooms and broadcast operators between two clients, with collected acks
  async rooms() {
    const opts = { ...transportsFor(mode), reconnection: false, forceNew: true };
    const alice = io(url, opts);
    const bob = io(url, opts);
    const carol = io(url, opts);
    await Promise.all([alice, bob, carol].map((s) => new Promise((resolve) => s.on("connect", resolve))));
    out({ event: "join", alice: await alice.emitWithAck("join", "lobby"), bob: await bob.emitWithAck("join", "lobby") });
    const seen = [];
    for (const [name, s] of [["alice", alice], ["bob", bob], ["carol", carol]]) {
      s.on("said", (text) => seen.push(name + ":" + text));
      s.on("vote", (question, cb) => cb(name + " votes on " + question));
    }
    // socket.to(room) from alice: bob only
    await alice.emitWithAck("say", "lobby", "hi");
    // io.to(room).timeout().emit() with collected acks: alice and bob
    const result = await alice.emitWithAck("poll-room", "lobby", "lunch?");
    // io.except(room): carol only. Each "said" was written before an ack
    // that the same connection received later (bob acked the vote after his
    // "said"; carol's ack follows hers), so all of them have arrived here.
    await carol.emitWithAck("notify-except", "lobby", "outside");
    out({ event: "poll-result", result });
    out({ event: "seen", seen: seen.sort() });
    for (const s of [alice, bob, carol]) s.disconnect();
    done();
  },

  // connection state recovery: the events broadcast while the transport
  // was down arrive on reconnection, with the same id and rooms
  async recovery() {
    const socket = io(url, { ...transportsFor(mode), reconnectionDelay: 1000, randomizationFactor: 0, auth: { token: "abc" } });
    let n = 0;
    let firstId;
    socket.on("said", (text) => out({ event: "said", text, connected: socket.connected }));
    socket.on("disconnect", (reason) => out({ event: "disconnect", reason }));
    socket.on("connect", async () => {
      n++;
      if (n === 1) {
        firstId = socket.id;
        out({ event: "connect", n, recovered: socket.recovered, join: await socket.emitWithAck("join", "lobby") });
        // an event from the server gives the client its first offset
        const back = new Promise((resolve) => socket.once("echo-back", resolve));
        socket.emit("echo", "first");
        out({ event: "echo-back", value: await back });
        socket.io.engine.close(); // lose the transport; the manager reconnects
        return;
      }
      out({ event: "connect", n, recovered: socket.recovered, sameId: socket.id === firstId });
      socket.off("disconnect");
      socket.disconnect();
      done();
    });
  },

  // automatic reconnection after the server restarts
  async reconnect() {
    const socket = io(url, { ...transportsFor(mode), reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 });
    let n = 0;
    socket.on("disconnect", (reason) => out({ event: "disconnect", reason }));
    socket.on("connect", async () => {
      n++;
      const back = await socket.emitWithAck("ack-me", n);
      out({ event: "connect", n, ack: back });
      if (n === 2) {
        socket.off("disconnect");
        socket.disconnect();
        done();
      }
    });
  },
};

const fn = scenarios[scenario];
if (!fn) fail("unknown scenario " + scenario);
fn().catch(fail);
