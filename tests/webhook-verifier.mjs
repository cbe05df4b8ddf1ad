// An independent verifier of heepr's AgentMarket webhook signatures, written the way a
// receiver would (the seed's snippet, made constant-time, plus V2): node's own crypto,
// no package. tests/tests/market_webhooks.rs runs it against real deliveries.
//
//   node tests/webhook-verifier.mjs v1 <body-file> <secret-file> '<X-AgentMarket-Signature>'
//   node tests/webhook-verifier.mjs v2 <body-file> <secret-file> '<X-AgentMarket-Signature-V2>' [now-unix] [tolerance-secs]
//
// The body file holds the raw request body, byte for byte; the secret file the
// `whsec_…` secret (surrounding whitespace ignored). V2 checks the timestamp against
// `now-unix` (default: this machine's clock) within `tolerance-secs` (default 300).
// Prints `valid` and exits 0, or prints why not and exits 1; 2 on bad usage.

import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

function hmacHex(secret, ...parts) {
  const mac = createHmac("sha256", secret);
  for (const p of parts) mac.update(p);
  return mac.digest("hex");
}

// Equal-length hex strings compared in constant time.
function sameHex(a, b) {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

function verifyV1(body, secret, header) {
  const expected = "sha256=" + hmacHex(secret, body);
  return sameHex(expected, header.trim()) ? null : "signature does not match";
}

function verifyV2(body, secret, header, now, tolerance) {
  let t = null;
  const sigs = [];
  for (const part of header.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === "t") {
      if (t !== null) return "two timestamps";
      if (!/^[0-9]+$/.test(v)) return "bad timestamp";
      t = Number(v);
    } else if (k === "v1") {
      sigs.push(v);
    }
  }
  if (t === null) return "no timestamp";
  if (sigs.length === 0) return "no v1 signature";
  if (Math.abs(now - t) > tolerance) return `stale: t=${t}, now=${now}`;
  const expected = hmacHex(secret, `${t}.`, body);
  return sigs.some((s) => sameHex(expected, s)) ? null : "signature does not match";
}

const [scheme, bodyFile, secretFile, header, nowArg, toleranceArg] = process.argv.slice(2);
if (!["v1", "v2"].includes(scheme) || !bodyFile || !secretFile || header === undefined) {
  console.error("usage: webhook-verifier.mjs v1|v2 <body-file> <secret-file> <header> [now-unix] [tolerance-secs]");
  process.exit(2);
}
const body = readFileSync(bodyFile); // raw bytes, as received
const secret = readFileSync(secretFile, "utf8").trim();
const now = nowArg ? Number(nowArg) : Math.floor(Date.now() / 1000);
const tolerance = toleranceArg ? Number(toleranceArg) : 300;
const why = scheme === "v1" ? verifyV1(body, secret, header) : verifyV2(body, secret, header, now, tolerance);
if (why === null) {
  console.log("valid");
  process.exit(0);
}
console.log(`invalid: ${why}`);
process.exit(1);
