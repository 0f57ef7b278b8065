/**
 * Measurements the store takes itself (its probes, precision tests) of nodes it already knows:
 * built as a `measurements` payload from the stored rows and applied through the one merge.
 */
import type { Payload, Protocol } from "@viper/protocol";
import type { Db } from "../db/client.js";
import type { NodeRow } from "../db/node-queries.js";
import { type DeliveryMechanism, type MergeOutcome, mergeDelivery } from "./merge-delivery.js";

export interface StoreObservation {
  row: NodeRow;
  latency: number | null;
  speed: number | null;
  availability: number | null;
}

export interface StoreMeasurementInput {
  deliveryId: string;
  mechanism: DeliveryMechanism;
  method: string;
  source: string;
  /** '' when REGION is unset. */
  region: string;
  at: Date;
  observations: readonly StoreObservation[];
}

export function mergeStoreMeasurements(db: Db, input: StoreMeasurementInput): Promise<MergeOutcome> {
  const timestamp = input.at.toISOString();
  const payload: Payload = {
    event_type: "measurements",
    mode: "delta",
    timestamp,
    source: input.source,
    region: input.region === "" ? null : input.region,
    nodes: input.observations.map(({ row, latency, speed, availability }) => ({
      id: row.id,
      node_key: row.nodeKey,
      url: row.url,
      name: row.name,
      protocol: row.protocol as Protocol,
      host: row.host,
      port: row.port,
      country: row.country,
      latency,
      speed,
      availability,
      legacy_score: null,
      tested_at: timestamp,
    })),
    total_count: null,
    verified_count: null,
  };
  return mergeDelivery(db, {
    deliveryId: input.deliveryId,
    mechanism: input.mechanism,
    method: input.method,
    payload,
    receivedAt: input.at,
  });
}
