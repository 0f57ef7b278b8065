import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const mainJs = join(packageDir, "dist", "main.js");
if (!existsSync(mainJs))
  console.warn(`skipping CLI tests: ${mainJs} is not built (pnpm --filter @viper/viper-store build)`);

const dataDirs: string[] = [];
function tempDataDir() {
  const d = mkdtempSync(join(tmpdir(), "viper-store-cli-"));
  dataDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

/** Runs `node dist/main.js` with only the given variables (plus PATH). */
function run(env: Record<string, string>): {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [mainJs], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, stderr: () => err, exit };
}

describe.skipIf(!existsSync(mainJs))("node dist/main.js", () => {
  it.each([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ MAX_BODY_BYTES: "-1" }, "MAX_BODY_BYTES"],
    [{ ACCEPT_LEGACY_SIGNATURES: "maybe" }, "ACCEPT_LEGACY_SIGNATURES"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ POLL_INTERVAL: "5m" }, "POLL_INTERVAL"],
    [{ SPIDERFLOW_API_URL: "ftp://x" }, "SPIDERFLOW_API_URL"],
    [{ ADMIN_TOKEN: "short" }, "ADMIN_TOKEN"],
    [{ WEBHOOK_SECRET: "too-short", DATABASE_URL: "pglite:memory" }, "WEBHOOK_SECRET"],
    [{ WEBHOOK_SECRET: "spiderflow-viper-sync-2026", DATABASE_URL: "pglite:memory" }, "WEBHOOK_SECRET"],
  ])("a bad value stops the process with exit 1, naming the variable: %o", async (env, name) => {
    const p = run({ DATA_DIR: tempDataDir(), ...env });
    expect(await p.exit).toBe(1);
    expect(p.stderr()).toContain(name);
  });

  it("refuses to start with postgres:// and no WEBHOOK_SECRET", async () => {
    const p = run({ DATA_DIR: tempDataDir(), DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" });
    expect(await p.exit).toBe(1);
    expect(p.stderr()).toMatch(/WEBHOOK_SECRET is not set/);
  });

  it("embedded start: generates secret files (0600), prints where they are, serves, stops on SIGTERM", async () => {
    const dataDir = tempDataDir();
    const p = run({ DATA_DIR: dataDir, PORT: "0" });
    const url = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no listening line: ${p.stderr()}`)), 30_000);
      p.child.stderr!.on("data", () => {
        const m = /listening on (http:\/\/\S+)/.exec(p.stderr());
        if (m) {
          clearTimeout(timer);
          res(m[1]!);
        }
      });
    });
    for (const name of ["webhook-secret", "admin-token"]) {
      const file = join(dataDir, name);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(p.stderr()).toContain(file);
    }
    expect(readFileSync(join(dataDir, "webhook-secret"), "utf8")).toMatch(/^whsec_/);
    expect(existsSync(join(dataDir, "pglite"))).toBe(true);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    p.child.kill("SIGTERM");
    expect(await p.exit).toBe(0);
  });
});
