// puppet.js drives real socket.io-client sockets for the hub's end-to-end
// tests. It reads one JSON command per line on stdin and writes one JSON
// event per line on stdout:
//
//   {"op":"connect","id":"a","url":"http://...","opts":{...}}
//   {"op":"emit","id":"a","event":"join","args":["room"],"ack":true,"seq":1}
//   {"op":"close","id":"a"}
//   {"op":"exit"}
//
// Events: {"id","type":"connect","sid","transport","recovered"} | {"id","type":"connect_error",
// "message","data"} | {"id","type":"disconnect","reason"} |
// {"id","type":"event","event","args"} | {"id","type":"ack","seq","args"} |
// {"id","type":"reconnect_attempt","attempt"}. Buffers are {"$bin":"<base64>"}.
"use strict";
const path = require("path");
const readline = require("readline");

const root = process.env.HUBKIT_ROOT || path.resolve(__dirname, "..", "..", "..");
const { io } = require(path.join(root, "tests", "node", "node_modules", "socket.io-client"));

const sockets = new Map();

function out(obj) {
  process.stdout.write(JSON.stringify(obj, (_k, v) => {
    if (v && v.type === "Buffer" && Array.isArray(v.data)) {
      return { $bin: Buffer.from(v.data).toString("base64") };
    }
    return v;
  }) + "\n");
}

function decodeArgs(args) {
  return (args || []).map(function dec(v) {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      if (typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
      const o = {};
      for (const k of Object.keys(v)) o[k] = dec(v[k]);
      return o;
    }
    if (Array.isArray(v)) return v.map(dec);
    return v;
  });
}

function connect(cmd) {
  const opts = Object.assign({ forceNew: true }, cmd.opts || {});
  const s = io(cmd.url, opts);
  sockets.set(cmd.id, s);
  s.on("connect", () => out({ id: cmd.id, type: "connect", sid: s.id, transport: s.io.engine.transport.name, recovered: s.recovered }));
  s.on("connect_error", (err) => out({ id: cmd.id, type: "connect_error", message: err.message, data: err.data === undefined ? null : err.data }));
  s.on("disconnect", (reason) => out({ id: cmd.id, type: "disconnect", reason }));
  s.onAny((event, ...args) => out({ id: cmd.id, type: "event", event, args }));
  s.io.on("reconnect_attempt", (attempt) => out({ id: cmd.id, type: "reconnect_attempt", attempt }));
}

function emit(cmd) {
  const s = sockets.get(cmd.id);
  if (!s) return out({ id: cmd.id, type: "error", message: "no socket " + cmd.id });
  const args = decodeArgs(cmd.args);
  if (cmd.ack) {
    s.emit(cmd.event, ...args, (...ackArgs) => out({ id: cmd.id, type: "ack", seq: cmd.seq, args: ackArgs }));
  } else {
    s.emit(cmd.event, ...args);
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    return out({ type: "error", message: "bad command: " + e.message });
  }
  switch (cmd.op) {
    case "connect": return connect(cmd);
    case "emit": return emit(cmd);
    case "close": {
      const s = sockets.get(cmd.id);
      if (s) s.close();
      return out({ id: cmd.id, type: "closed" });
    }
    case "exit": return shutdown();
    default: return out({ type: "error", message: "unknown op " + cmd.op });
  }
});
rl.on("close", shutdown);

function shutdown() {
  for (const s of sockets.values()) s.close();
  process.exit(0);
}
out({ type: "ready" });
