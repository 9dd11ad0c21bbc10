'use strict';
// hubkit's client contract (../../shared/DESIGN.md, "The hub's client contract")
// implemented on the real Node socket.io 4.8 server. It is the baseline that
// tests/load drives next to the Go hub: same contract, same load.
//
// Environment:
//   PORT          listen port (default 3000; 0 = pick a free one)
//   HOST          listen host (default all interfaces)
//   REDIS_URL     when set, @socket.io/redis-adapter 8.3 (classic) clusters replicas
//   HUB_API_KEY   bearer key for POST /api/v1/publish (unset = API refuses with 403)
//   HUB_MAX_PAYLOAD, HUB_PING_INTERVAL, HUB_PING_TIMEOUT (ms numbers or Go-style
//                 durations such as 25s), as the hub reads them.
//
// Prints one JSON line {"msg":"listening","port":N,"pid":P} on stdout once ready.
const path = require('path');
const http = require('http');

const nm = path.join(__dirname, '..', 'node', 'node_modules');
const { Server } = require(path.join(nm, 'socket.io'));

const RESERVED = new Set([
  'connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener',
]);

function durationMs(value, fallback) {
  if (value === undefined || value === '') return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new Error(`bad duration ${JSON.stringify(value)}`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 's': return n * 1000;
    case 'm': return n * 60000;
    default: return n; // "ms" or a bare number of milliseconds
  }
}

const maxPayload = Number(process.env.HUB_MAX_PAYLOAD || 1000000);
const apiKey = process.env.HUB_API_KEY || '';

function roomError(room) {
  if (typeof room !== 'string' || room.length === 0) return 'room must be a non-empty string';
  if (room.length > 256) return 'room is longer than 256 characters';
  return null;
}

function eventError(event) {
  if (typeof event !== 'string' || event.length === 0) return 'event must be a non-empty string';
  if (RESERVED.has(event)) return `event "${event}" is reserved`;
  return null;
}

function lastFn(args) {
  return args.length > 0 && typeof args[args.length - 1] === 'function' ? args.pop() : null;
}

function sendJSON(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

let io; // set below; the HTTP handler only runs after it is

function publishAPI(req, res) {
  if (req.method !== 'POST') return sendJSON(res, 405, { error: 'method not allowed: use POST' });
  if (!apiKey) return sendJSON(res, 403, { error: 'publish API disabled: HUB_API_KEY is not set' });
  if (req.headers.authorization !== `Bearer ${apiKey}`) {
    return sendJSON(res, 401, { error: 'missing or wrong bearer API key' });
  }
  const chunks = [];
  let size = 0;
  let aborted = false;
  req.on('data', (chunk) => {
    if (aborted) return;
    size += chunk.length;
    if (size > maxPayload) {
      aborted = true;
      sendJSON(res, 413, { error: `body larger than ${maxPayload} bytes` });
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (aborted) return;
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      return sendJSON(res, 400, { error: `body is not valid JSON: ${err.message}` });
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return sendJSON(res, 400, { error: 'body must be a JSON object {"room","event","data"}' });
    }
    const problem = roomError(body.room) || eventError(body.event);
    if (problem) return sendJSON(res, 400, { error: problem });
    io.to(body.room).emit(body.event, body.data === undefined ? null : body.data);
    return sendJSON(res, 200, { ok: true });
  });
}

const httpServer = http.createServer((req, res) => {
  const url = req.url.split('?')[0];
  if (url === '/healthz' || url === '/readyz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok\n');
  }
  if (url === '/api/v1/publish') return publishAPI(req, res);
  return sendJSON(res, 404, { error: 'not found' });
});

io = new Server(httpServer, {
  maxHttpBufferSize: maxPayload,
  pingInterval: durationMs(process.env.HUB_PING_INTERVAL, 25000),
  pingTimeout: durationMs(process.env.HUB_PING_TIMEOUT, 20000),
});

io.on('connection', (socket) => {
  socket.on('join', (...args) => {
    const ack = lastFn(args);
    const problem = roomError(args[0]);
    if (problem) return ack && ack({ error: problem });
    socket.join(args[0]);
    return ack && ack({ ok: true });
  });
  socket.on('leave', (...args) => {
    const ack = lastFn(args);
    const problem = roomError(args[0]);
    if (problem) return ack && ack({ error: problem });
    socket.leave(args[0]);
    return ack && ack({ ok: true });
  });
  socket.on('publish', (...args) => {
    const ack = lastFn(args);
    const [room, event, payload] = args;
    const problem = roomError(room) || eventError(event);
    if (problem) return ack && ack({ error: problem });
    // socket.to(room) broadcasts to the room on every replica except this socket.
    socket.to(room).emit(event, payload === undefined ? null : payload);
    return ack && ack({ ok: true });
  });
});

async function useRedis(url) {
  const { createClient } = require(path.join(nm, 'redis'));
  const { createAdapter } = require(path.join(nm, '@socket.io', 'redis-adapter'));
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err) => console.error(`redis: ${err.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
  return [pub, sub];
}

async function main() {
  const clients = process.env.REDIS_URL ? await useRedis(process.env.REDIS_URL) : [];
  const port = Number(process.env.PORT === undefined ? 3000 : process.env.PORT);
  await new Promise((resolve) => httpServer.listen(port, process.env.HOST || undefined, resolve));
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: httpServer.address().port, pid: process.pid })}\n`);
  const stop = () => {
    io.close(() => {
      Promise.allSettled(clients.map((c) => c.quit())).then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
