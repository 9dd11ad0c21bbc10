// Encodes and decodes Socket.IO packets with the reference socket.io-parser.
// Reads {"encode":[packet...],"decode":[[frame...]...]} as JSON on stdin,
// where binary values are {"$bin":"<base64>"} and text frames are strings;
// writes {"encoded":[[frame...]...],"decoded":[packet|{"error":msg}...]}.
"use strict";

const path = require("path");
const parser = require(path.join(__dirname, "..", "..", "node", "node_modules", "socket.io-parser"));

function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string" && Object.keys(v).length === 1) return Buffer.from(v.$bin, "base64");
    const o = {};
    for (const k of Object.keys(v)) o[k] = revive(v[k]);
    return o;
  }
  return v;
}

function replace(v) {
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return { $bin: Buffer.from(v).toString("base64") };
  if (Array.isArray(v)) return v.map(replace);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = replace(v[k]);
    return o;
  }
  return v;
}

let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  const encoder = new parser.Encoder();
  const encoded = req.encode.map((p) => encoder.encode(revive(p)).map(replace));
  const decoded = req.decode.map((frames) => {
    const decoder = new parser.Decoder();
    let result = null;
    decoder.on("decoded", (p) => (result = p));
    try {
      for (const f of frames) decoder.add(revive(f));
    } catch (e) {
      return { error: e.message };
    }
    return result ? replace(result) : { error: "incomplete" };
  });
  process.stdout.write(JSON.stringify({ encoded, decoded }));
});
