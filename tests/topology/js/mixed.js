// A stock socket.io-client recovers across a Go hub replica and a Node
// replica (@socket.io/redis-streams-adapter) sharing one Redis. Usage:
//   node mixed.js <go hub url> <node replica url>
// The client reaches the replicas through a TCP relay in this script whose
// target can be switched and whose connections can be cut, so the client's
// transport breaks while both replicas stay up, and its reconnection lands
// on the other replica. Prints PASS/FAIL/INFO lines.
// NODE_PATH must point at tests/node/node_modules.
"use strict";
const net = require("net");
const http = require("http");
const { io } = require("socket.io-client");

const [goURL, nodeURL] = process.argv.slice(2);
let failed = false;
const pass = (w) => console.log("PASS " + w);
const fail = (w) => {
  failed = true;
  console.log("FAIL " + w);
};
const info = (w) => console.log("INFO " + w);
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

// relay
let target = null;
const conns = new Set();
const relay = net.createServer((c) => {
  const up = net.connect(target.port, "127.0.0.1");
  conns.add(c);
  conns.add(up);
  c.pipe(up);
  up.pipe(c);
  const close = () => {
    c.destroy();
    up.destroy();
    conns.delete(c);
    conns.delete(up);
  };
  c.on("error", close).on("close", close);
  up.on("error", close).on("close", close);
});
const switchTo = (u) => (target = { port: Number(new URL(u).port) });
const cut = () => {
  for (const c of conns) c.destroy();
  conns.clear();
};

function request(method, u, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const goPublish = (room, event, data) =>
  request("POST", goURL + "/api/v1/publish", JSON.stringify({ room, event, data }), {
    Authorization: "Bearer k", "Content-Type": "application/json",
  });
const nodeEmit = (room, event, data) =>
  request("GET", `${nodeURL}/ctl/emit?room=${room}&event=${event}&data=${encodeURIComponent(JSON.stringify(data))}`);

function until(cond, what, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error("timeout: " + what));
      setTimeout(tick, 10);
    };
    tick();
  });
}

async function hop(s, log, from, to, publishAway) {
  const id = s.id;
  const before = log.length;
  switchTo(to.url);
  cut();
  await until(() => !s.connected, "disconnect");
  await wait(200); // the old replica notices the close and stores the session
  await publishAway();
  await until(() => s.connected, "reconnect", 10000);
  await wait(300);
  const got = log.slice(before).map((e) => e.event);
  info(`${from.name} -> ${to.name}: recovered=${s.recovered} id ${id} -> ${s.id} received ${JSON.stringify(got)}`);
  if (!s.recovered) fail(`${from.name} -> ${to.name}: socket.recovered is false`);
  else if (s.id !== id) fail(`${from.name} -> ${to.name}: id changed`);
  else if (got.join(",") !== "missed") fail(`${from.name} -> ${to.name}: received ${got.join(",")} (want only "missed")`);
  else pass(`recovered from the ${from.name} replica on the ${to.name} replica: same id, the missed event, nothing else`);
}

async function main() {
  await new Promise((r) => relay.listen(0, "127.0.0.1", r));
  const go = { name: "Go", url: goURL };
  const nd = { name: "Node", url: nodeURL };
  switchTo(nodeURL);
  const s = io(`http://127.0.0.1:${relay.address().port}`, {
    transports: ["websocket"], reconnectionDelay: 300, reconnectionDelayMax: 300,
  });
  const log = [];
  s.onAny((event, ...args) => log.push({ event, args }));
  await until(() => s.connected, "first connect");
  const ack = await s.timeout(5000).emitWithAck("join", "room1");
  if (!ack || !ack.ok) fail("join " + JSON.stringify(ack));
  // an event from the Go replica gives the client an offset (a Go entry id)
  await goPublish("room1", "first", 1);
  await until(() => log.some((e) => e.event === "first"), "first event");
  await hop(s, log, nd, go, async () => {
    await nodeEmit("room1", "missed", 2);
    await nodeEmit("other", "notForYou", 3);
  });
  await hop(s, log, go, nd, async () => {
    await goPublish("room1", "missed", 4);
    await goPublish("other", "notForYou", 5);
  });
  s.disconnect();
}
main()
  .catch((e) => fail(e && e.stack ? e.stack : String(e)))
  .finally(() => process.exit(failed ? 1 : 0));
