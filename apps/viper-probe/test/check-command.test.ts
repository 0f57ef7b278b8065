/** viper-probe's command line, in-process (exit codes, output) and once as the built binary. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { formatShareLink } from "@viper/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { link, UUID } from "../../../packages/probe/test/support/links.js";
import { NODES_SKIP_REASON, needsNodes, V2RAY } from "../../../packages/probe/test/support/v2ray.js";
import { startWorld, type World } from "../../../packages/probe/test/support/world.js";
import { runCli } from "../src/cli/program.js";
import type { EnvSource } from "../src/env.js";

async function cli(argv: string[], env: EnvSource = { PATH: "" }) {
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

describe("viper-probe usage errors exit 2", () => {
  it.each([
    ["no command", []],
    ["check without a link", ["check"]],
    ["an unknown option", ["check", "socks5://127.0.0.1:1080", "--bogus"]],
    ["an unknown command", ["frobnicate"]],
  ])("%s", async (_name, argv) => {
    expect((await cli(argv)).code).toBe(2);
  });

  it("a link that does not parse says so", async () => {
    const r = await cli(["check", "vmess://not-base64-json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a share link/);
    expect(r.stdout).toBe("");
  });

  it("a bad --timeout names the option", async () => {
    const r = await cli(["check", "socks5://127.0.0.1:1080", "--timeout", "soon"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timeout/);
  });

  it.each([
    ["PROBE_URL", { PROBE_URL: "gopher://x.example" }],
    ["PROBE_TIMEOUT_MS", { PROBE_TIMEOUT_MS: "-1" }],
    ["V2RAY_BIN", { V2RAY_BIN: "/nonexistent/v2ray" }],
  ])("a bad %s names the variable", async (variable, env) => {
    const r = await cli(["check", "socks5://127.0.0.1:1080"], { PATH: "", ...env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(variable);
  });

  it("--help lists the check command and exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/check \[options\] <link>/);
  });
});

describe.skipIf(NODES_SKIP_REASON !== null)(needsNodes("viper-probe check against real nodes"), () => {
  let world: World;
  let env: EnvSource;
  beforeAll(async () => {
    world = await startWorld(V2RAY!);
    env = { PATH: "", V2RAY_BIN: V2RAY!, PROBE_URL: world.target.url, PROBE_TIMEOUT_MS: "3000" };
  });
  afterAll(() => world?.close());

  it("a live vmess node: PASS through the core, exit 0", async () => {
    const r = await cli(["check", formatShareLink(world.server.nodes.vmessWs)], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}vmess 127\.0\.0\.1:\d+ {2}through the node \(v2ray core\)/);
    expect(r.stdout).toMatch(/latency {3}[\d.]+ ms/);
  });

  it("--json prints one JSON object in the API's spelling", async () => {
    const r = await cli(["check", formatShareLink(world.server.nodes.socksAuth), "--json"], env);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout);
    expect(parsed).toMatchObject({ ok: true, method: "through-node", error: null, http_status: 204 });
    expect(parsed.latency_ms).toBeGreaterThan(0);
  });

  it("a dead node: FAIL, exit 1", async () => {
    const r = await cli(
      ["check", formatShareLink(link("trojan", world.closedPort, { password: "p" })), "--json"],
      env,
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, method: "through-node" });
  });

  it("a REALITY node: UNTESTED with the reason, exit 1", async () => {
    const reality = link("vless", 443, { uuid: UUID, security: "reality", realityPublicKey: "k" });
    const r = await cli(["check", formatShareLink(reality)], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^UNTESTED .*unsupported/);
    expect(r.stdout).toMatch(/reason +REALITY/);
  });

  it("--timeout overrides PROBE_TIMEOUT_MS", async () => {
    const started = performance.now();
    const r = await cli(
      ["check", formatShareLink(link("socks5", world.blackhole.port)), "--timeout", "400"],
      env,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/within 400 ms/);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  const built = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
  it.skipIf(!existsSync(built))("the built binary prints the JSON alone on stdout", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [built, "check", formatShareLink(world.server.nodes.ssGcm), "--json"],
      { env: { ...env, PATH: process.env["PATH"] ?? "" } as NodeJS.ProcessEnv },
    );
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, method: "through-node" });
  });
});
