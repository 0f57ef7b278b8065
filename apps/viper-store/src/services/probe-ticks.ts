import { claimTick, finishTick } from "../db/claim.js";
import type { Db } from "../db/client.js";
import type { TickSchedule } from "./probe-scheduler.js";

/** The probe scheduler's ticks on the database's shared schedule (src/db/claim.ts). */
export function sharedTicks(db: Db, instanceId: string): TickSchedule {
  return {
    claim: async (key, intervalMs, leaseMs) =>
      (await claimTick(db, key, intervalMs, instanceId, { leaseMs })).claimed,
    finish: (key) => finishTick(db, key, instanceId),
  };
}
