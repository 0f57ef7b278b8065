/** No core outlives the process that started it: signals, exit, crashes (asserted by pid). */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isAliveNotZombie, isRunning, needsV2ray, V2RAY } from "./support/v2ray.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/hold-core.ts", import.meta.url));

async function runHolder(mode: string, signal?: NodeJS.Signals) {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, mode], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, sig) => resolve({ code, signal: sig })),
  );
  const corePid = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const match = /^(\d+)\n/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    exited.then(() => reject(new Error(`holder exited early: ${stderr}`)));
  });
  expect(isRunning(corePid)).toBe(true);
  if (signal) child.kill(signal);
  const end = await exited;
  return { corePid, end, stdout: () => stdout };
}

/** SIGKILL is delivered at once, but the kernel needs a moment to end the process. */
async function waitGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (!isAliveNotZombie(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe.skipIf(!V2RAY)(needsV2ray("core cleanup on every exit path"), () => {
  it.each(["SIGTERM", "SIGINT", "SIGHUP"] as const)(
    "%s kills the core and still ends the process",
    async (sig) => {
      const { corePid, end } = await runHolder("wait", sig);
      expect(end.signal).toBe(sig);
      expect(await waitGone(corePid)).toBe(true);
    },
  );

  it("process.exit without close() kills the core", async () => {
    const { corePid, end } = await runHolder("exit");
    expect(end.code).toBe(0);
    expect(await waitGone(corePid)).toBe(true);
  });

  it("an uncaught error kills the core", async () => {
    const { corePid, end } = await runHolder("throw");
    expect(end.code).not.toBe(0);
    expect(await waitGone(corePid)).toBe(true);
  });

  it("an application's own SIGTERM handler still runs (graceful shutdown), the core dies at once", async () => {
    const { corePid, end, stdout } = await runHolder("app-handler", "SIGTERM");
    expect(end.code).toBe(0);
    expect(stdout()).toContain("app handler ran");
    expect(await waitGone(corePid)).toBe(true);
  });
});
