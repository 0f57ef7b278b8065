/**
 * `viper-probe run` end to end: real nodes on loopback (one v2ray server), a real store, the built
 * CLI spawned as a prober would run it; plus the refusals and exit codes in-process.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { liveChildPids } from "@viper/probe";
import { formatShareLink, type ShareLink } from "@viper/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "../../../packages/probe/test/support/target.js";
import { NODES_SKIP_REASON, needsNodes, V2RAY } from "../../../packages/probe/test/support/v2ray.js";
import { startWorld, type World } from "../../../packages/probe/test/support/world.js";
import { runCli } from "../src/cli/program.js";
import type { EnvSource } from "../src/env.js";
import {
  getJson,
  HUNTER_SECRET,
  PROBER_SECRET,
  pushAsHunter,
  type RealStore,
  startRealStore,
  storeSkipReason,
} from "./real-store.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

async function cli(argv: string[], env: EnvSource) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
  });
  return { code, stdout, stderr };
}

/** Runs the built binary; resolves with its exit code and output whatever the code. */
function spawnCli(argv: string[], env: EnvSource): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...argv], { env: env as NodeJS.ProcessEnv }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const skip = NODES_SKIP_REASON ?? storeSkipReason;

describe("viper-probe run: usage errors exit 2", () => {
  const env = { PATH: "", PROBER_SECRET };
  it.each([
    ["no --region", ["run", "--from", "nodes.json", "--push", "http://127.0.0.1:9/webhook/nodes-update"]],
    ["no --push", ["run", "--from", "nodes.json", "--region", "eu"]],
    [
      "a bad --concurrency",
      ["run", "--from", "x.json", "--push", "http://127.0.0.1:9/w", "--region", "eu", "--concurrency", "0"],
    ],
    [
      "an unknown --protocol",
      ["run", "--from", "x.json", "--push", "http://127.0.0.1:9/w", "--region", "eu", "--protocol", "gopher"],
    ],
    [
      "a node file that does not exist",
      ["run", "--from", "/nonexistent/nodes.json", "--push", "http://127.0.0.1:9/w", "--region", "eu"],
    ],
    [
      "a push URL that is not http",
      ["run", "--from", "x.json", "--push", "ftp://x.example/w", "--region", "eu"],
    ],
  ])("%s", async (_name, argv) => {
    expect((await cli(argv, env)).code).toBe(2);
  });

  it("no PROBER_SECRET: exit 2 naming it", async () => {
    const r = await cli(["run", "--from", "x.json", "--push", "http://127.0.0.1:9/w", "--region", "eu"], {
      PATH: "",
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PROBER_SECRET/);
    expect(r.stdout).toBe("");
  });
});

describe.skipIf(skip !== null)(
  needsNodes(
    `viper-probe run against a real store${storeSkipReason ? ` [skipped: ${storeSkipReason}]` : ""}`,
  ),
  () => {
    let world: World;
    let store: RealStore;
    let env: EnvSource;
    let dir: string;
    let links: Record<"vmess" | "ss" | "dead" | "reality", ShareLink>;
    const ids = new Map<string, string>();

    beforeAll(async () => {
      [world, store] = await Promise.all([startWorld(V2RAY!), startRealStore()]);
      dir = mkdtempSync(join(tmpdir(), "viper-probe-run-"));
      const { nodes } = world.server;
      links = {
        vmess: { ...nodes.vmess, name: "live-vmess" },
        ss: { ...nodes.ssGcm, name: "live-ss" },
        dead: { ...nodes.trojanNoTls, port: world.closedPort, name: "dead-trojan" },
        reality: {
          ...nodes.vless,
          security: "reality",
          realityPublicKey: "pbk",
          sni: "node.example",
          name: "reality",
        },
      };
      const pushed = await pushAsHunter(store, {
        event_type: "nodes_updated",
        timestamp: new Date(Date.now() - 3_600_000).toISOString(),
        nodes: Object.values(links).map((l) => ({ url: formatShareLink(l), latency: 500, country: "SG" })),
      });
      expect(pushed.status).toBe(200);
      const list = await getJson(store, "/api/nodes");
      for (const n of list.body.nodes as { id: string; name: string }[]) ids.set(n.name, n.id);
      expect(ids.size).toBe(4);
      env = {
        PATH: process.env["PATH"] ?? "",
        PROBER_SECRET,
        V2RAY_BIN: V2RAY!,
        PROBE_URL: world.target.url,
        PROBE_TIMEOUT_MS: "2000",
      };
    });
    afterAll(async () => {
      await Promise.all([world?.close(), store?.close()]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const push = () => `${store.url}/webhook/nodes-update`;

    it.skipIf(!existsSync(CLI))(
      "two probers in different regions (the built CLI): the store keeps both regions per node",
      async () => {
        const [eu, asia] = await Promise.all([
          spawnCli(["run", "--from", store.url, "--push", push(), "--region", "eu", "--json"], env),
          spawnCli(
            [
              "run",
              "--from",
              store.url,
              "--push",
              push(),
              "--region",
              "asia",
              "--json",
              "--concurrency",
              "2",
            ],
            env,
          ),
        ]);
        for (const r of [eu, asia]) {
          expect(r.code, r.stderr).toBe(0);
          // JSON alone on stdout; progress went to stderr.
          expect(JSON.parse(r.stdout)).toMatchObject({
            checked: 4,
            alive: 2,
            dead: 1,
            unsupported: 1,
            pushed: 3,
            rejected: 0,
            push_status: "delivered",
          });
        }
        const detail = await getJson(store, `/api/nodes/${ids.get("live-vmess")}`);
        expect(detail.status).toBe(200);
        const regions = (detail.body.current as { source: string; region: string; availability: number }[])
          .filter((c) => c.source === "viper-probe")
          .map((c) => [c.region, c.availability])
          .sort();
        expect(regions).toEqual([
          ["asia", 100],
          ["eu", 100],
        ]);
        const dead = await getJson(store, `/api/nodes/${ids.get("dead-trojan")}`);
        expect(
          (dead.body.current as { source: string; availability: number }[])
            .filter((c) => c.source === "viper-probe")
            .map((c) => c.availability),
        ).toEqual([0, 0]);
        // The unsupported node got no measurement from either prober.
        const reality = await getJson(store, `/api/nodes/${ids.get("reality")}`);
        expect((reality.body.current as { source: string }[]).map((c) => c.source)).toEqual(["spiderflow"]);
        const inEu = await getJson(store, "/api/nodes?region=eu&sort=-availability");
        expect(inEu.body.total).toBe(3);
      },
    );

    it("a node file (v1 payload) with a node the store does not know: that one is rejected, the rest pushed", async () => {
      const file = join(dir, "nodes.json");
      const stranger = { ...world.server.nodes.socks, name: "unknown-to-store" };
      writeFileSync(
        file,
        JSON.stringify({
          event_type: "nodes_snapshot",
          timestamp: new Date().toISOString(),
          nodes: [
            { url: formatShareLink(links.vmess) },
            { url: formatShareLink(stranger) },
            { link: "not a link" },
          ],
        }),
      );
      const r = await cli(
        ["run", "--from", file, "--push", push(), "--region", "file-region", "--json"],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        checked: 2,
        alive: 2,
        pushed: 1,
        rejected: 1,
        skipped: 1,
      });
      expect(liveChildPids()).toEqual([]);
    });

    it("--protocol limits the run; the text summary names the counts", async () => {
      const r = await cli(
        ["run", "--from", store.url, "--push", push(), "--region", "ss-only", "--protocol", "ss"],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /^checked 1 {2}alive 1 {2}dead 0 {2}unsupported 0\npushed 1 {2}region ss-only {2}\(delivered, /,
      );
    });

    it("signed with a key the store does not accept: refused, exit 1", async () => {
      const r = await cli(
        ["run", "--from", store.url, "--push", push(), "--region", "eu", "--protocol", "ss", "--json"],
        { ...env, PROBER_SECRET: `whsec_${Buffer.alloc(32, 1).toString("base64")}` },
      );
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ push_status: "refused", pushed: 0 });
      // The hunter's key is not a prober's either way: a prober needs no more than measurements.
      expect(HUNTER_SECRET).not.toBe(PROBER_SECRET);
    });

    it("a receiver that never answers: gave up after the retries, exit 3", async () => {
      const port = await closedPort();
      const r = await cli(
        [
          "run",
          "--from",
          store.url,
          "--push",
          `http://127.0.0.1:${port}/webhook/nodes-update`,
          "--region",
          "eu",
          "--protocol",
          "ss",
          "--retries",
          "1",
          "--retry-delay",
          "10",
          "--json",
        ],
        env,
      );
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout)).toMatchObject({ push_status: "gave_up", pushed: 0 });
    });

    it("a store that cannot be read: exit 3, nothing checked", async () => {
      const port = await closedPort();
      const r = await cli(
        ["run", "--from", `http://127.0.0.1:${port}`, "--push", push(), "--region", "eu"],
        env,
      );
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/cannot read/);
      expect(r.stdout).toBe("");
    });
  },
);
