// Scenarios run with the real socket.io-client against the HAProxy front of
// the topology (TLS, cookie affinity). Usage: node topology.js <scenario> <url>
// Prints "PASS <what>" / "FAIL <what>" lines, "INFO ..." lines, then exits.
//
// Which replica answered each request is read from the X-Hub-Replica
// response header: https.request is wrapped (before socket.io-client is
// loaded) to record, for every response and websocket upgrade, the request
// path (which carries the Engine.IO sid) and the header.
// NODE_PATH must point at tests/node/node_modules.
"use strict";
const https = require("https");

const seen = []; // {sid, replica, upgrade}
const origRequest = https.request;
https.request = function (...args) {
  const req = origRequest.apply(this, args);
  const opts = typeof args[0] === "object" && !(args[0] instanceof URL) ? args[0] : args[1] || {};
  const path = String(opts.path || (args[0] instanceof URL ? args[0].pathname + args[0].search : ""));
  const m = /[?&]sid=([^&]+)/.exec(path);
  const record = (res, upgrade) =>
    seen.push({ sid: m ? decodeURIComponent(m[1]) : "", replica: res.headers["x-hub-replica"] || "", upgrade });
  req.on("response", (res) => record(res, false));
  req.on("upgrade", (res) => record(res, true));
  return req;
};

const { io } = require("socket.io-client");

const [scenario, url] = process.argv.slice(2);
const base = { rejectUnauthorized: false, withCredentials: true, reconnection: false, forceNew: true };
let failed = false;
const pass = (what) => console.log("PASS " + what);
const fail = (what) => {
  failed = true;
  console.log("FAIL " + what);
};
const info = (what) => console.log("INFO " + what);

function connect(opts) {
  return new Promise((resolve, reject) => {
    const s = io(url, { ...base, ...opts });
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

function call(s, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(5000).emit(...args, (err, ack) => (err ? reject(err) : resolve(ack)));
  });
}

function replicasOf(sid) {
  return new Set(seen.filter((r) => r.sid === sid).map((r) => r.replica));
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

async function polling() {
  const s = await connect({ transports: ["polling"] });
  const sid = s.io.engine.id;
  const ack = await call(s, "join", "aff");
  if (!ack || !ack.ok) fail("join: " + JSON.stringify(ack));
  for (let i = 0; i < 25; i++) {
    const a = await call(s, "publish", "aff", "tick", { i });
    if (!a || !a.ok) fail("publish ack " + JSON.stringify(a));
  }
  const mine = seen.filter((r) => r.sid === sid);
  const reps = replicasOf(sid);
  info(`polling requests=${mine.length} replicas=${[...reps].join(",")} transport=${s.io.engine.transport.name}`);
  if (s.io.engine.transport.name !== "polling") fail("the client left polling");
  if (mine.length < 25) fail(`only ${mine.length} polling requests were observed`);
  else if (reps.size !== 1 || [...reps][0] === "") fail(`requests were answered by ${[...reps].join(",") || "no replica header"}`);
  else pass(`polling-only client stayed on ${[...reps][0]} for ${mine.length} requests`);
  s.disconnect();
}

async function upgrade() {
  const s = await connect({ transports: ["polling", "websocket"] });
  const sid = s.io.engine.id;
  if (s.io.engine.transport.name !== "websocket") {
    await new Promise((resolve, reject) => {
      s.io.engine.once("upgrade", resolve);
      setTimeout(() => reject(new Error("no upgrade within 10s")), 10000);
    });
  }
  const ack = await call(s, "join", "up");
  const ups = seen.filter((r) => r.sid === sid && r.upgrade);
  const polls = seen.filter((r) => r.sid === sid && !r.upgrade);
  info(`upgrade polls=${polls.length} upgrades=${ups.length} replicas=${[...replicasOf(sid)].join(",")}`);
  if (s.io.engine.transport.name !== "websocket") fail("transport is " + s.io.engine.transport.name);
  else if (!ack || !ack.ok) fail("join over the websocket: " + JSON.stringify(ack));
  else if (ups.length !== 1 || replicasOf(sid).size !== 1) fail("the upgrade did not reach the polling session's replica");
  else pass(`polling -> websocket upgrade through the proxy on ${ups[0].replica}, ack over the websocket`);
  s.disconnect();
}

async function rooms() {
  const clients = [];
  let a, b;
  for (let i = 0; i < 8 && !b; i++) {
    const s = await connect({ transports: ["polling"] });
    await call(s, "join", "shared");
    s.replica = [...replicasOf(s.io.engine.id)][0];
    clients.push(s);
    if (!a) a = s;
    else if (s.replica !== a.replica) b = s;
  }
  if (!b) {
    fail("every client landed on " + a.replica);
    return;
  }
  for (const s of clients) if (s !== a && s !== b) s.disconnect();
  info(`a on ${a.replica}, b on ${b.replica}`);
  const got = (s, ev) => new Promise((resolve) => s.once(ev, (...args) => resolve(args)));
  const atB = got(b, "hello");
  await call(a, "publish", "shared", "hello", { from: "a" });
  const atA = got(a, "hello-back");
  const argsB = await Promise.race([atB, wait(5000).then(() => null)]);
  await call(b, "publish", "shared", "hello-back", { from: "b" });
  const argsA = await Promise.race([atA, wait(5000).then(() => null)]);
  if (!argsB || argsB[0].from !== "a") fail("b did not get a's room message: " + JSON.stringify(argsB));
  else if (!argsA || argsA[0].from !== "b") fail("a did not get b's room message: " + JSON.stringify(argsA));
  else pass(`room messages crossed replicas both ways (${a.replica} <-> ${b.replica})`);
  a.disconnect();
  b.disconnect();
}

const scenarios = { polling, upgrade, rooms };
scenarios[scenario]()
  .catch((e) => fail(scenario + ": " + (e && e.stack ? e.stack : e)))
  .finally(() => process.exit(failed ? 1 : 0));
