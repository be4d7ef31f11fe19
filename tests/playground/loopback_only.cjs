// Preloaded into the Agents Playground (NODE_OPTIONS=--require): every
// connection and name lookup outside loopback is refused before it leaves the
// machine. The Playground resolves an Application Insights host and probes the
// cloud metadata address even with --disable-telemetry; a test may not reach
// the internet. Each refusal is written to stderr once.
"use strict";

const dns = require("node:dns");
const net = require("node:net");

const refused = new Set();

function allowed(host) {
  const name = String(host || "localhost").replace(/^\[|\]$/g, "").toLowerCase();
  return name === "localhost" || name === "::1" || name.startsWith("127.");
}

function note(what) {
  if (!refused.has(what)) {
    refused.add(what);
    process.stderr.write(`loopback-only: refused ${what}\n`);
  }
}

const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const normalized = Array.isArray(args[0]) ? args[0] : net._normalizeArgs(args);
  const options = normalized[0] || {};
  if (!options.path && !allowed(options.host)) {
    note(`${options.host}:${options.port}`);
    const error = Object.assign(new Error(`loopback only: ${options.host} refused`), {
      code: "ECONNREFUSED",
    });
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return realConnect.apply(this, args);
};

const realLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (!allowed(hostname)) {
    note(`lookup of ${hostname}`);
    const done = typeof options === "function" ? options : callback;
    const error = Object.assign(new Error(`loopback only: ${hostname} not resolved`), {
      code: "ENOTFOUND",
      hostname,
    });
    process.nextTick(() => done(error));
    return {};
  }
  return realLookup.apply(this, [hostname, options, callback]);
};
