/**
 * Poll traffic benchmark (`pnpm --filter @viper/viper-store exec tsx bench/poll.ts`): the largest
 * fixture served by the real `spiderflow-push serve-feed` CLI, polled by a real store (in-memory
 * PGlite) through POST /api/sync/poll-now. Measures bytes on the wire of a changed poll (full
 * gzip body) and of an unchanged one (304), as booked in the traffic ledger, and projects a
 * 30-day month at POLL_INTERVAL=300: unchanged data, and a change every hour.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startStore } from "../src/store.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = process.env.FIXTURES_DIR ?? resolve(here, "../../../../shared/fixtures");
const snapshotsDir = join(fixturesDir, "spiderflow-snapshots");
const cli = resolve(here, "../../spiderflow-push/dist/cli.js");
const SECRET = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;
const ADMIN = "bench-admin-token-0123456789";
const MONTH_S = 30 * 86_400;
const INTERVAL_S = 300;

function largestFixture(): string | undefined {
  try {
    return readdirSync(snapshotsDir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => join(snapshotsDir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  } catch {
    return undefined;
  }
}

async function waitForFeed(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`serve-feed exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the feed at ${url} did not answer`);
}

async function main() {
  const fixture = largestFixture();
  if (!fixture) {
    process.stderr.write(`bench/poll: skipped, no fixtures in ${snapshotsDir} (set FIXTURES_DIR)\n`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "viper-poll-bench-"));
  const file = join(work, "nodes.json");
  copyFileSync(fixture, file);
  // serve-feed stamps the snapshot with the file's mtime: make it recent (payload times may not lie ahead).
  const recent = new Date(Date.now() - 60_000);
  utimesSync(file, recent, recent);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const feed = spawn(process.execPath, [cli, "serve-feed", file, "--port", String(port)], {
    env: { PATH: process.env.PATH ?? "", WEBHOOK_SECRET: SECRET },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const store = await startStore({
    PORT: 0,
    DATA_DIR: work,
    DATABASE_URL: "pglite:memory",
    WEBHOOK_SECRET: SECRET,
    ADMIN_TOKEN: ADMIN,
    SPIDERFLOW_API_URL: `http://127.0.0.1:${port}`,
    POLL_INTERVAL: 0,
    log: () => {},
  });
  try {
    await waitForFeed(`http://127.0.0.1:${port}/api/nodes/feed`, feed);
    const poll = async () => {
      const res = await fetch(`${store.url}/api/sync/poll-now`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      return (await res.json()) as {
        result: string;
        bytes_in: number;
        bytes_out: number;
        duration_ms: number;
        counts?: unknown;
      };
    };
    const changed = await poll();
    const unchanged = await poll();
    if (changed.result !== "changed" || unchanged.result !== "not_modified") {
      throw new Error(`unexpected results: ${changed.result}, ${unchanged.result}`);
    }
    const ledger = (await (await fetch(`${store.url}/api/stats/traffic`)).json()) as {
      mechanisms: { poll: { bytes_in: number; bytes_out: number; count: number } };
    };
    const perChanged = changed.bytes_in + changed.bytes_out;
    const perUnchanged = unchanged.bytes_in + unchanged.bytes_out;
    const polls = MONTH_S / INTERVAL_S;
    const hourly = MONTH_S / 3600;
    const report = {
      fixture: fixture.split("/").pop(),
      fixture_bytes: statSync(fixture).size,
      changed_poll: {
        bytes_in: changed.bytes_in,
        bytes_out: changed.bytes_out,
        duration_ms: changed.duration_ms,
      },
      unchanged_poll_304: {
        bytes_in: unchanged.bytes_in,
        bytes_out: unchanged.bytes_out,
        duration_ms: unchanged.duration_ms,
      },
      ledger_poll: ledger.mechanisms.poll,
      month_at_300s: {
        polls,
        unchanged_bytes: Math.round(polls * perUnchanged),
        hourly_change_bytes: Math.round(hourly * perChanged + (polls - hourly) * perUnchanged),
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await store.close();
    feed.kill("SIGTERM");
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
