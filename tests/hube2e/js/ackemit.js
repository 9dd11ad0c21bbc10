// ackemit.js is a Node socket.io server joining a hub cluster through
// @socket.io/redis-adapter (classic mode) and broadcasting with
// acknowledgements, as a Node app server does with io.timeout(t).emit:
//
//   node ackemit.js <redis-url> <room> <event> <timeout-ms> <servers>
//
// It waits until <servers> servers (itself included) subscribe to the
// namespace's request channel, emits, and prints one JSON line
// {"error": <message or null>, "responses": [...]} when the acks are in or
// the timeout passed.
"use strict";
const path = require("path");

const root = process.env.HUBKIT_ROOT || path.resolve(__dirname, "..", "..", "..");
const mod = (name) => require(path.join(root, "tests", "node", "node_modules", name));
const { createClient } = mod("redis");
const { Server } = mod("socket.io");
const { createAdapter } = mod("@socket.io/redis-adapter");

async function main() {
  const [url, room, event, timeoutMs, servers] = process.argv.slice(2);
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) {
    c.on("error", (err) => {
      console.error("redis:", err.message);
      process.exit(2);
    });
  }
  await Promise.all([pub.connect(), sub.connect()]);
  const io = new Server();
  io.adapter(createAdapter(pub, sub));
  for (;;) {
    const n = await pub.pubSubNumSub("socket.io-request#/#");
    if (n["socket.io-request#/#"] >= Number(servers)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  let result;
  try {
    const responses = await io.timeout(Number(timeoutMs)).to(room).emitWithAck(event, "question");
    result = { error: null, responses };
  } catch (err) {
    result = { error: err.message, responses: null };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
  await io.of("/").adapter.close(); // unsubscribes (io.close needs an attached HTTP server)
  await Promise.all([pub.quit(), sub.quit()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
