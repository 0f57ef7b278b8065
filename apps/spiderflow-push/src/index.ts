/**
 * @viper/spiderflow-push: the sender SpiderFlow's hunter imports to deliver node batches to
 * viper-store over the signed webhook (DESIGN 3), its push history, the connection test, and the
 * signed feed the store polls as a fallback.
 */
export {
  CLOCK_SKEW_WARNING_S,
  type ConnectionTestOptions,
  type ConnectionTestResult,
  testConnectionUrl,
  testWebhookConnection,
} from "./connection.js";
export { PayloadError, PushConfigError } from "./errors.js";
export { createNodesFeed, FEED_PATH, type FeedSnapshot, type NodesFeedOptions } from "./feed.js";
export {
  DEFAULT_HISTORY_FILE,
  getPushHistory,
  getPushStatistics,
  HISTORY_MAX_MESSAGES,
  type HistoryContents,
  PushHistoryFile,
  type PushHistoryQuery,
  type PushStatistics,
  readHistoryFile,
} from "./history.js";
export {
  defaultMode,
  type EnvelopeOverrides,
  encodePayload,
  type NodeInput,
  type PreparedPayload,
  prepareFromDocument,
  prepareFromNodes,
} from "./payload.js";
export {
  createPusher,
  type DocumentPushOptions,
  GZIP_THRESHOLD_BYTES,
  type Pusher,
  type PusherOptions,
  type PushOptions,
} from "./pusher.js";
export { MAX_BACKOFF_MS, MAX_RETRY_AFTER_MS, parseRetryAfter } from "./retry-after.js";
export type {
  AttemptRecord,
  HistoryRecord,
  OutcomeRecord,
  PushAttempt,
  PushOutcome,
  PushStatus,
} from "./types.js";
