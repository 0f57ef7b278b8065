import { parseSecrets, type SigningSecret } from "../secrets.js";
import type { SecretsInput } from "./v1.js";

// A receiver verifies every request with the same WEBHOOK_SECRET string; parsing it (base64, policy
// checks) cost about as much as hashing a 1 KiB body, so parsed lists are remembered. Bounded: a
// caller cycling through many lists just empties the cache now and then. Refusals are not cached,
// so a bad secret throws every time.
const MAX_ENTRIES = 16;
const cache = new Map<string, readonly SigningSecret[]>();

/** {@link parseSecrets} with memory; same results and errors. Callers must not modify the keys. */
export function resolveSecrets(input: SecretsInput): readonly SigningSecret[] {
  const cacheKey = typeof input === "string" ? input : allStrings(input) ? input.join(" ") : undefined;
  if (cacheKey === undefined) return parseSecrets(input);
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const parsed = Object.freeze(parseSecrets(cacheKey));
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(cacheKey, parsed);
  return parsed;
}

function allStrings(input: unknown): input is readonly string[] {
  return Array.isArray(input) && input.every((s) => typeof s === "string");
}
