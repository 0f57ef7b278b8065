/**
 * zod 4 schemas of the v1 payload (DESIGN 3.3). normalizePayload validates the envelope with
 * payloadEnvelopeSchema; nodes are checked one by one by hand (same rules as nodeInputSchema,
 * which documents them), because a node error rejects that node only and zod per node is slow.
 */
import { z } from "zod";
import { parseIsoInstant } from "./payload/iso-time.js";
import { EVENT_TYPES } from "./types.js";

const PRODUCER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,63}$/;

const isoWithOffset = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? "timestamp is required: an ISO 8601 time with an offset, e.g. 2026-01-01T12:00:00Z"
        : "timestamp must be a string: an ISO 8601 time with an offset, e.g. 2026-01-01T12:00:00Z",
  })
  .refine((s) => parseIsoInstant(s) !== null, {
    error: "must be an ISO 8601 time with an offset (Z or ±hh:mm), e.g. 2026-01-01T12:00:00Z",
  });

const producerId = (what: string) =>
  z.string({ error: `${what} must be a string` }).regex(PRODUCER_ID, {
    error: `${what} must be 1-64 characters of letters, digits and . _ : @ / - (starting with a letter or digit)`,
  });

/** The v1 envelope (nodes unchecked): what normalizePayload validates before it looks at any node. */
export const payloadEnvelopeSchema = z.object({
  event_type: z.enum(EVENT_TYPES, { error: `event_type must be one of ${EVENT_TYPES.join(", ")}` }),
  mode: z.enum(["delta", "snapshot"], { error: "mode must be delta or snapshot" }).optional(),
  timestamp: isoWithOffset,
  source: producerId("source").optional(),
  region: producerId("region").nullable().optional(),
  nodes: z.array(z.unknown(), { error: "nodes must be a list (JSON array) of nodes" }).optional(),
  // Informational only: a bad value is dropped with a warning, never a reason to refuse the payload.
  total_count: z.unknown().optional(),
  verified_count: z.unknown().optional(),
});
/** An envelope as a producer writes it. */
export type PayloadEnvelopeInput = z.input<typeof payloadEnvelopeSchema>;

const metric = z.number().nullable().optional();

/** One node as producers send it (documentation and OpenAPI; unknown fields are allowed and ignored). */
export const nodeInputSchema = z.looseObject({
  url: z.string().optional().describe("share link; alias `link`"),
  link: z.string().nullable().optional(),
  name: z.string().optional(),
  country: z.string().nullable().optional().describe("ISO 3166-1 alpha-2; UNK or empty → null"),
  protocol: z.string().optional().describe("derived from the url; the url wins on conflict"),
  type: z.string().optional().describe("legacy alias of protocol"),
  host: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  latency: metric.describe("ms; 9999, -1, 0 → null"),
  speed: metric.describe("MB/s measured (in the legacy bare array: a score, kept as legacy_score)"),
  availability: metric.describe("percent 0..100"),
  legacy_score: metric,
  tested_at: z.string().optional().describe("ISO 8601 with offset; default the payload timestamp"),
});
/** One node as a producer writes it. */
export type NodeInput = z.infer<typeof nodeInputSchema>;

/** The whole v1 payload with documented nodes (for OpenAPI and producers' own validation). */
export const payloadInputSchema = payloadEnvelopeSchema.extend({
  nodes: z.array(nodeInputSchema).optional(),
});
/** A whole v1 payload as a producer writes it. */
export type PayloadInput = z.input<typeof payloadInputSchema>;
