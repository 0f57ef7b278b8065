/** Thrown inside the parsers and turned into `{ ok: false, error }` by parseShareLink. */
export class LinkError extends Error {
  override name = "LinkError";
}
