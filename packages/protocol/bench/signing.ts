/**
 * Cost of verifyRequest against a bare createHmac over the same bytes, in the same run.
 * Target (issue 2): ≤ 1.5× at 100 KiB. Run: pnpm --filter @viper/protocol exec tsx bench/signing.ts
 *
 * Each case alternates baseline and verify in short rounds and reports the median per-call time, so a
 * noisy neighbour on a shared machine hits both sides alike. Whole run: a few seconds.
 */
import { createHmac, randomBytes } from "node:crypto";
import { signRequest, verifyRequest } from "../src/signing.js";

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const KEY = Buffer.from(SECRET.slice(6), "base64");
const SIZES = [
  ["1 KiB", 1024],
  ["100 KiB", 100 * 1024],
  ["1 MiB", 1024 * 1024],
] as const;
const ROUNDS = 15;
const ROUND_BUDGET_BYTES = 16 * 1024 * 1024; // per round and side: ~16 MiB hashed, ~40 ms

function timePerCall(calls: number, fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - start) / calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rows: string[][] = [["body", "createHmac", "verifyRequest", "ratio", "verify MB/s"]];
for (const [label, size] of SIZES) {
  const body = randomBytes(size);
  const headers = signRequest({ body, secrets: SECRET });
  const now = Number(headers["webhook-timestamp"]);
  const bare = () => createHmac("sha256", KEY).update(body).digest();
  const verify = () => {
    const result = verifyRequest({ body, headers, secrets: SECRET, now });
    if (!result.ok) throw new Error(result.reason);
  };
  const calls = Math.max(20, Math.floor(ROUND_BUDGET_BYTES / size));
  timePerCall(calls, bare); // warm-up
  timePerCall(calls, verify);
  const bareNs: number[] = [];
  const verifyNs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    bareNs.push(timePerCall(calls, bare));
    verifyNs.push(timePerCall(calls, verify));
  }
  const b = median(bareNs);
  const v = median(verifyNs);
  const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;
  rows.push([label, us(b), us(v), `${(v / b).toFixed(2)}×`, ((size / v) * 1000).toFixed(0)]);
}

const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join("  "));
