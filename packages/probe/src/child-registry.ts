/**
 * Every core process this process started, so none outlives it: on exit, SIGINT, SIGTERM and
 * SIGHUP the live children are killed. The handlers are installed once, on the first child.
 * (A SIGKILL of this process cannot be caught; its cores would linger until killed by hand.)
 */
import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let installed = false;

export function adoptChild(child: ChildProcess): void {
  install();
  live.add(child);
  child.once("exit", () => live.delete(child));
}

/** Pids of the cores still running (tests assert this is empty after a run). */
export function liveChildPids(): number[] {
  return [...live].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
}

function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once("exit", killAll);
  for (const signal of SIGNALS) {
    const onSignal = () => {
      killAll();
      // Listening for a signal disables Node's default exit. If nobody else handles it (a CLI),
      // restore the default and re-raise; if the application has its own handler (the store's
      // graceful shutdown), leave the rest to it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
