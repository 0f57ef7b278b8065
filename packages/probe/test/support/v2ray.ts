import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { locateV2ray } from "../../src/env.js";

/** The v2ray binary for tests (V2RAY_BIN or PATH), or null: those suites then skip, saying why. */
export const V2RAY: string | null = locateV2ray();

const HAS_OPENSSL = spawnSync("openssl", ["version"]).status === 0;

/** Why the loopback nodes (v2ray server + TLS certificate) cannot run here, or null. */
export const NODES_SKIP_REASON: string | null = !V2RAY
  ? "v2ray not found; apt-get install v2ray or set V2RAY_BIN"
  : !HAS_OPENSSL
    ? "openssl not found (needed for the test certificate); apt-get install openssl"
    : null;

export function needsV2ray(title: string): string {
  return V2RAY ? title : `${title} [skipped: v2ray not found; apt-get install v2ray or set V2RAY_BIN]`;
}

export function needsNodes(title: string): string {
  return NODES_SKIP_REASON ? `${title} [skipped: ${NODES_SKIP_REASON}]` : title;
}

/** True while a process with this pid exists (signal 0 checks without killing). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * For a grandchild (a core of a child process that died): once its parent is gone it is
 * re-parented to pid 1, which in a container may reap it late, so a dead core can linger as a
 * zombie that `kill(pid, 0)` still finds. A zombie runs nothing: it counts as gone.
 */
export function isAliveNotZombie(pid: number): boolean {
  if (!isRunning(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return !existsSync("/proc/self/stat");
  }
}
