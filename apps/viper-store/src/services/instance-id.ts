import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** Names this process among replicas (sync status `leader`): host, pid and a random suffix. */
export function newInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}
