// Resolves packages from <repo>/tests/node/node_modules, wherever the repo is.
"use strict";
const path = require("path");
const root = path.resolve(__dirname, "..", "..", "node", "node_modules");
module.exports = (name) => require(path.join(root, name));
