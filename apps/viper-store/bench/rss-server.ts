/** Child process of the benchmark: a store that reports its peak RSS on request. */
import { createInterface } from "node:readline";
import { startStore } from "../src/store.js";

const store = await startStore({
  PROBE_STALE_AFTER: 0,
  POLL_INTERVAL: 0,
  ...process.env,
  PORT: 0,
  log: () => {},
});
let peak = process.memoryUsage.rss();
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 10);
process.stdout.write(`${JSON.stringify({ url: store.url, rss: process.memoryUsage.rss() })}\n`);
createInterface({ input: process.stdin }).on("line", () => {
  peak = Math.max(peak, process.memoryUsage.rss());
  process.stdout.write(`${JSON.stringify({ peak })}\n`);
});
process.on("SIGTERM", () => {
  clearInterval(timer);
  store.close().then(() => process.exit(0));
});
