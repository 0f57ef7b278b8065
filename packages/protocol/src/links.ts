/** Share links: parse any supported scheme into a ShareLink, and write it back canonically. */
export { formatShareLink } from "./links/format.js";
export { MAX_LINK_LENGTH, parseShareLink, SCHEME_ALIASES } from "./links/parse.js";
