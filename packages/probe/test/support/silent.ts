/**
 * A TCP port that never completes a handshake: a listener with a full accept queue that never
 * accepts, so the kernel drops further SYNs (what a filtered port looks like). Node always
 * accepts, so the listener is a small python3 process (python3 is on every CI machine here).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";

export const HAS_PYTHON = spawnSync("python3", ["-c", "pass"]).status === 0;

export interface SilentPort {
  port: number;
  close(): Promise<void>;
}

const SCRIPT = [
  "import socket, sys",
  "s = socket.socket()",
  "s.bind(('127.0.0.1', 0))",
  "s.listen(0)",
  "print(s.getsockname()[1], flush=True)",
  "sys.stdin.read()",
].join("\n");

export async function startSilentPort(): Promise<SilentPort> {
  const child: ChildProcess = spawn("python3", ["-c", SCRIPT], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim())));
    child.once("exit", (code) => reject(new Error(`silent listener exited (${code})`)));
  });
  // Fill the accept queue (backlog 0 holds one connection): every later SYN is dropped.
  const { connect } = await import("node:net");
  const fillers = [connect(port, "127.0.0.1"), connect(port, "127.0.0.1")];
  for (const f of fillers) f.on("error", () => {});
  await new Promise((r) => setTimeout(r, 50));
  return {
    port,
    close: async () => {
      for (const f of fillers) f.destroy();
      const exited = new Promise((r) => child.once("exit", r));
      child.stdin!.end();
      child.kill();
      await exited;
    },
  };
}
