// Runs many real socket.io-client clients in one Node process and reports,
// per client, which sequence numbers it received. Usage:
//
//   node clients.js '{"url":"https://localhost:8443","clients":100,"rooms":10,
//                    "first":0,"total":200,"transports":["websocket"],"deadlineMs":60000}'
//
// Client i joins room "r<(first+i) % rooms>" (join(room, ack), the hub's
// contract) and records the "n" of every "seq" event. When a reconnection
// is not a recovery (socket.recovered false) it joins its room again, as an
// application would. Output lines:
//   READY <n>                       every client connected and joined
//   COMPLETE / INCOMPLETE           every client is connected and got
//                                   `total` events / no longer so
//   RESULT <json>                   on SIGUSR2, or at deadlineMs
// NODE_PATH must point at tests/node/node_modules.
"use strict";
const { io } = require("socket.io-client");

const cfg = JSON.parse(process.argv[2]);
const clients = [];
let ready = 0;
let reported = false;

function report() {
  if (reported) return;
  reported = true;
  const out = clients.map((c) => {
    const uniq = new Set(c.got);
    let inOrder = c.got.length === cfg.total;
    let firstProblem = null;
    for (let i = 0; i < c.got.length; i++) {
      if (c.got[i] !== i) {
        inOrder = false;
        firstProblem = { at: i, got: c.got[i] };
        break;
      }
    }
    // In order once re-deliveries are dropped: every number arrives as
    // the next one expected, or is one already received (a re-delivery).
    // socket.io-client keeps events received before a CONNECT ack in its
    // receive buffer when that connection dies before the ack, and the next
    // recovery (from the older offset) sends them again.
    let next = 0;
    let inOrderAfterRedelivery = true;
    for (const n of c.got) {
      if (n === next) next++;
      else if (n > next || n < 0) { inOrderAfterRedelivery = false; break; }
    }
    inOrderAfterRedelivery = inOrderAfterRedelivery && next === cfg.total;
    return {
      inOrderAfterRedelivery,
      id: c.id, room: c.room, sids: [...c.sids], engines: [...c.engines], managerReconnects: c.managerReconnects, connects: c.connects,
      recovered: c.recovered, notRecovered: c.notRecovered,
      received: c.got.length, unique: uniq.size, dupes: c.got.length - uniq.size,
      missing: cfg.total - [...uniq].filter((n) => n >= 0 && n < cfg.total).length,
      inOrder, firstProblem, reconnectMs: c.reconnectMs, connected: c.socket.connected,
    };
  });
  process.stdout.write("RESULT " + JSON.stringify(out) + "\n", () => process.exit(0));
  for (const c of clients) c.socket.disconnect();
}

let complete = false;
function checkDone() {
  const now = clients.length === cfg.clients && clients.every((c) => c.socket.connected && new Set(c.got).size >= cfg.total);
  if (now !== complete) {
    complete = now;
    console.log(now ? "COMPLETE" : "INCOMPLETE");
  }
}

for (let i = 0; i < cfg.clients; i++) {
  const id = cfg.first + i;
  const c = {
    id, room: "r" + (id % cfg.rooms), got: [], sids: new Set(), connects: 0,
    recovered: 0, notRecovered: 0, reconnectMs: [], lostAt: 0, joined: false, engines: new Set(), managerReconnects: 0,
  };
  c.socket = io(cfg.url, {
    transports: cfg.transports || ["websocket"],
    rejectUnauthorized: false,
    withCredentials: true,
    reconnectionDelay: cfg.reconnectionDelay || 500,
    reconnectionDelayMax: cfg.reconnectionDelayMax || 2000,
  });
  c.socket.on("connect", () => {
    c.connects++;
    c.sids.add(c.socket.id);
    c.engines.add(c.socket.io.engine.id);
    checkDone();
    if (c.lostAt) {
      c.reconnectMs.push(Date.now() - c.lostAt);
      c.lostAt = 0;
      if (c.socket.recovered) c.recovered++;
      else c.notRecovered++;
    }
    if (!c.socket.recovered) {
      c.socket.emit("join", c.room, (ack) => {
        if (!ack || !ack.ok) {
          console.error("join failed", id, JSON.stringify(ack));
          return;
        }
        if (!c.joined) {
          c.joined = true;
          if (++ready === cfg.clients) console.log("READY " + ready);
        }
      });
    }
  });
  c.socket.io.on("reconnect", () => c.managerReconnects++);
  c.socket.on("disconnect", () => {
    checkDone();
    if (!c.lostAt) c.lostAt = Date.now();
  });
  c.socket.on("seq", (data) => {
    c.got.push(data && typeof data.n === "number" ? data.n : -1);
    if (c.got.length >= cfg.total) checkDone();
  });
  clients.push(c);
}

process.on("SIGUSR2", report);
setTimeout(report, cfg.deadlineMs || 60000);
