/**
 * Request signing (DESIGN.md 3.1, 3.2): v1 (Standard Webhooks compatible) and the legacy scheme of the
 * Python hunters. One idea per file under ./signing/.
 */
export type { RawBody } from "./signing/body.js";
export { DEFAULT_TOLERANCE_S, SIGNATURE_HEADERS } from "./signing/constants.js";
export type { HeadersInput } from "./signing/headers.js";
export {
  type LegacyWebhookHeaders,
  type SignLegacyRequestOptions,
  signLegacyRequest,
} from "./signing/legacy.js";
export { uuidV7 } from "./signing/uuid-v7.js";
export {
  isValidMessageId,
  type SecretsInput,
  type SignRequestOptions,
  signRequest,
  type WebhookHeaders,
} from "./signing/v1.js";
export {
  type VerifyFailure,
  type VerifyFailureCode,
  type VerifyRequestOptions,
  type VerifyResult,
  type VerifySuccess,
  verifyRequest,
} from "./signing/verify.js";
