import type { NormalizedNode } from "./types.js";

/**
 * Collapses records of the same node (same `id`): the last record wins, and the result keeps the
 * order in which each id was first seen. Used by the merge (one upsert per row) and by contentHash.
 */
export function collapseNodes<T extends Pick<NormalizedNode, "id">>(nodes: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const node of nodes) byId.set(node.id, node);
  return [...byId.values()];
}
