import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { verifyRequest } from "@viper/protocol";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CLI, runCliProcess } from "./cli-helpers.js";
import {
  closedPort,
  makeTempDir,
  startTestReceiver,
  syntheticNodes,
  type TestReceiver,
  testSecret,
} from "./helpers.js";

const secret = testSecret();
let dir: { path: string; remove(): Promise<void> };
let receiver: TestReceiver | undefined;

beforeAll(() => {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run \`pnpm --filter @viper/spiderflow-push build\` first`);
});
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  await dir.remove();
});

function envFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    VIPER_WEBHOOK_URL: url,
    WEBHOOK_SECRET: secret,
    PUSH_HISTORY_FILE: join(dir.path, "history.jsonl"),
    PUSH_RETRY_DELAY_MS: "50",
    ...extra,
  };
}

async function payloadFile(name: string, nodes = syntheticNodes(20)): Promise<string> {
  const file = join(dir.path, name);
  await writeFile(
    file,
    JSON.stringify({ event_type: "nodes_updated", timestamp: new Date().toISOString(), nodes }),
  );
  return file;
}

describe("spiderflow-push CLI: configuration", () => {
  it("prints help on stdout with exit 0, and usage on stderr with exit 2 when no command is given", async () => {
    const help = await runCliProcess(["--help"], {});
    expect(help.code).toBe(0);
    for (const command of ["push", "test-connection", "history", "stats", "serve-feed"]) {
      expect(help.stdout).toContain(command);
    }
    expect(help.stdout).toContain("PUSH_RETRY_DELAY_MS");
    const none = await runCliProcess([], {});
    expect(none.code).toBe(2);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("Usage: spiderflow-push");
  });

  it("exits 2 naming WEBHOOK_SECRET when it is missing, printing nothing on stdout", async () => {
    const run = await runCliProcess(["push", await payloadFile("p.json")], {
      PUSH_HISTORY_FILE: join(dir.path, "h"),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("WEBHOOK_SECRET");
    expect(run.stdout).toBe("");
  });

  it("exits 2 naming a malformed variable", async () => {
    const run = await runCliProcess(
      ["push", await payloadFile("p.json")],
      envFor("http://127.0.0.1:1/x", { PUSH_RETRIES: "many" }),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("PUSH_RETRIES");
  });

  it("exits 2 on a bad secret, an unknown option, or input that is not JSON", async () => {
    const file = await payloadFile("p.json");
    expect(
      (await runCliProcess(["push", file], envFor("http://127.0.0.1:1/x", { WEBHOOK_SECRET: "short" }))).code,
    ).toBe(2);
    expect((await runCliProcess(["push", "--bogus", file], envFor("http://127.0.0.1:1/x"))).code).toBe(2);
    const notJson = join(dir.path, "bad.json");
    await writeFile(notJson, "{ nope");
    const run = await runCliProcess(["push", notJson], envFor("http://127.0.0.1:1/x"));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not valid JSON/);
    const missing = await runCliProcess(
      ["push", join(dir.path, "absent.json")],
      envFor("http://127.0.0.1:1/x"),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ENOENT/);
  });
});

describe("spiderflow-push CLI: push", () => {
  it("delivers (exit 0), then skips the unchanged second run (exit 0) with one request sent", async () => {
    receiver = await startTestReceiver(secret);
    const file = await payloadFile("p.json");
    const first = await runCliProcess(["push", file, "--json"], envFor(receiver.url));
    expect(first.code).toBe(0);
    const outcome = JSON.parse(first.stdout);
    expect(outcome).toMatchObject({ status: "delivered", nodeCount: 20, httpStatus: 200 });
    const second = await runCliProcess(["push", file], envFor(receiver.url));
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^skipped: unchanged/);
    expect(receiver.requests).toHaveLength(1);
    const forced = await runCliProcess(["push", file, "--force"], envFor(receiver.url));
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^delivered/);
    expect(receiver.requests).toHaveLength(2);
  });

  it("reads stdin for - and applies --event-type/--mode/--source/--region", async () => {
    receiver = await startTestReceiver(secret);
    const run = await runCliProcess(
      [
        "push",
        "-",
        "--event-type",
        "nodes_snapshot",
        "--mode",
        "snapshot",
        "--source",
        "hunter-b",
        "--region",
        "eu",
      ],
      envFor(receiver.url),
      { stdin: JSON.stringify(syntheticNodes(3)) },
    );
    expect(run.code).toBe(0);
    expect(receiver.requests[0]?.json).toMatchObject({
      event_type: "nodes_snapshot",
      mode: "snapshot",
      source: "hunter-b",
      region: "eu",
    });
  });

  it("reports reading progress on stderr for a large input, keeping stdout to the result", async () => {
    receiver = await startTestReceiver(secret);
    const nodes = syntheticNodes(6000);
    const file = await payloadFile("large.json", nodes);
    const run = await runCliProcess(["push", file, "--json"], envFor(receiver.url));
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/reading .*large\.json: 1\.\d MiB of 1\.\d MiB/);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "delivered", nodeCount: 6000, gzip: true });
  });

  it("exits 1 with the receiver's reason on a refusal, without retrying", async () => {
    receiver = await startTestReceiver(testSecret());
    const run = await runCliProcess(["push", await payloadFile("p.json")], envFor(receiver.url));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/refused .*401.*signature/);
    expect(receiver.requests).toHaveLength(1);
  });

  it("exits 3 after backing off against a dead receiver, and the history says so", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/webhook/nodes-update`;
    const env = envFor(url, { PUSH_RETRIES: "2" });
    const run = await runCliProcess(["push", await payloadFile("p.json")], env);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^gave up after 3 attempts/);
    expect(run.stderr).toMatch(/attempt 1: no answer .*retrying in/);
    const history = await runCliProcess(["history", "--json"], env);
    expect(history.code).toBe(0);
    const records = JSON.parse(history.stdout);
    expect(records[0]).toMatchObject({ kind: "outcome", status: "gave_up", attempts: 3, receiverUrl: url });
    const attempts = records.filter((r: { kind: string }) => r.kind === "attempt");
    expect(attempts).toHaveLength(3);
    // Newest first: attempts 3, 2, 1; the first two waited (50 ms base, doubling).
    expect(attempts.map((a: { attempt: number }) => a.attempt)).toEqual([3, 2, 1]);
    expect(attempts[2].retryInMs).toBeGreaterThanOrEqual(40);
    expect(attempts[1].retryInMs).toBeGreaterThanOrEqual(80);
    const gap = Date.parse(attempts[1].at) - Date.parse(attempts[2].at);
    expect(gap).toBeGreaterThanOrEqual(attempts[2].retryInMs);
    const stats = JSON.parse((await runCliProcess(["stats", "--json"], env)).stdout);
    expect(stats).toMatchObject({ totalPushes: 1, gaveUp: 1, attempts: 3, successRate: 0 });
  });
});

describe("spiderflow-push CLI: history and stats", () => {
  it("prints a pure JSON array (newest first) and respects --limit", async () => {
    receiver = await startTestReceiver(secret);
    const env = envFor(receiver.url);
    await runCliProcess(["push", await payloadFile("a.json", syntheticNodes(2, 0))], env);
    await runCliProcess(["push", await payloadFile("b.json", syntheticNodes(2, 1))], env);
    const run = await runCliProcess(["history", "--json", "--limit", "2"], env);
    const records = JSON.parse(run.stdout);
    expect(records).toHaveLength(2);
    expect(records[0].kind).toBe("outcome");
    expect(Date.parse(records[0].at)).toBeGreaterThanOrEqual(Date.parse(records[1].at));
    const human = await runCliProcess(["history"], env);
    expect(human.stdout).toMatch(/DELIVERED/);
    expect((await runCliProcess(["history", "--limit", "0"], env)).code).toBe(2);
  });

  it("history and stats exit 2 naming PUSH_HISTORY_FILE when it cannot be read, stdout empty", async () => {
    for (const command of [["history", "--json"], ["stats"]]) {
      const run = await runCliProcess(command, { PUSH_HISTORY_FILE: dir.path });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain("PUSH_HISTORY_FILE");
      expect(run.stderr).toContain("EISDIR");
      expect(run.stdout).toBe("");
    }
  });

  it("`pnpm --silent spiderflow-push history --json` from the repo root prints JSON alone", async () => {
    const root = join(import.meta.dirname, "..", "..", "..");
    const child = spawn("pnpm", ["--silent", "spiderflow-push", "history", "--json", "--limit", "1"], {
      cwd: root,
      env: { ...process.env, PUSH_HISTORY_FILE: join(dir.path, "none.jsonl") },
    });
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([]);
  });
});

describe("spiderflow-push CLI: serve-feed", () => {
  it("serves the file signed, answers 304 for its ETag, follows file changes, and stops on SIGTERM", async () => {
    const file = join(dir.path, "nodes.json");
    await writeFile(file, JSON.stringify(syntheticNodes(5)));
    const mtime = new Date("2026-01-01T10:00:00Z");
    await utimes(file, mtime, mtime);
    const child = spawn(process.execPath, [CLI, "serve-feed", file, "--port", "0"], {
      env: { PATH: process.env.PATH ?? "", WEBHOOK_SECRET: secret },
    });
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
        const match = /serving .* at (http:\/\/127\.0\.0\.1:\d+\/api\/nodes\/feed)/.exec(stderr);
        if (match?.[1]) resolve(match[1]);
      });
      child.on("close", () => reject(new Error(`serve-feed exited: ${stderr}`)));
    });
    try {
      const first = await fetch(url, { headers: { "accept-encoding": "identity" } });
      expect(first.status).toBe(200);
      const body = new Uint8Array(await first.arrayBuffer());
      expect(verifyRequest({ body, headers: first.headers, secrets: secret }).ok).toBe(true);
      const payload = JSON.parse(new TextDecoder().decode(body));
      expect(payload).toMatchObject({ event_type: "nodes_snapshot", timestamp: mtime.toISOString() });
      const etag = first.headers.get("etag") ?? "";
      const again = await fetch(url, { headers: { "if-none-match": etag } });
      expect(again.status).toBe(304);

      await writeFile(file, JSON.stringify(syntheticNodes(6)));
      const changed = await fetch(url, { headers: { "if-none-match": etag } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get("etag")).not.toBe(etag);
      expect(((await changed.json()) as { nodes: unknown[] }).nodes).toHaveLength(6);
    } finally {
      child.kill("SIGTERM");
    }
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(stderr).toMatch(/GET \/api\/nodes\/feed → 304/);
  });

  it("listens on 127.0.0.1 by default", async () => {
    const file = join(dir.path, "nodes.json");
    await writeFile(file, "[]");
    const child = spawn(process.execPath, [CLI, "serve-feed", file, "--port", "0"], {
      env: { PATH: process.env.PATH ?? "", WEBHOOK_SECRET: secret },
    });
    let stderr = "";
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
        if (stderr.includes("serving")) resolve();
      });
    });
    child.kill("SIGTERM");
    await new Promise((resolve) => child.on("close", resolve));
    expect(stderr).toMatch(/at http:\/\/127\.0\.0\.1:\d+\//);
  });
});
