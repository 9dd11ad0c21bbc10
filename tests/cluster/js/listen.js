// Connects one socket.io-client to URL, joins ROOM, prints "ready", then
// prints "recv EVENT" for every event received. Usage: node listen.js URL ROOM
"use strict";
const nm = require("./nm");
const { io } = nm("socket.io-client");
const [url, room] = process.argv.slice(2);
const socket = io(url, { transports: ["websocket"], reconnection: false });
socket.onAny((event) => process.stdout.write(`recv ${event}\n`));
socket.on("connect", async () => {
  await socket.timeout(5000).emitWithAck("join", room);
  process.stdout.write("ready\n");
});
socket.on("disconnect", (reason) => {
  process.stdout.write(`disconnected ${reason}\n`);
  process.exit(1);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
