export * from "./hash.js";
export * from "./identity.js";
export * from "./links.js";
export * from "./payload.js";
export * from "./secrets.js";
export * from "./signing.js";
export * from "./types.js";
