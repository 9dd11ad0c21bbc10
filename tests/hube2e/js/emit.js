// emit.js publishes one event into a hub cluster the way a Node backend does,
// with @socket.io/redis-emitter (classic Redis adapter protocol):
//
//   node emit.js <redis-url> <room> <event> <json-data>
//
// It exits 0 once the PUBLISH was sent.
"use strict";
const path = require("path");

const root = process.env.HUBKIT_ROOT || path.resolve(__dirname, "..", "..", "..");
const mod = (name) => require(path.join(root, "tests", "node", "node_modules", name));
const { createClient } = mod("redis");
const { Emitter } = mod("@socket.io/redis-emitter");

async function main() {
  const [url, room, event, data] = process.argv.slice(2);
  const client = createClient({ url });
  client.on("error", (err) => {
    console.error("redis:", err.message);
    process.exit(2);
  });
  await client.connect();
  new Emitter(client).to(room).emit(event, JSON.parse(data));
  // The emitter publishes without awaiting; a round trip makes sure the
  // PUBLISH went out before quitting.
  await client.ping();
  await client.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
