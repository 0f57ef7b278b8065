export {
  type BytesCounted,
  type CheckMethod,
  type CheckOptions,
  type CheckResult,
  checkNode,
  checkNodes,
  NO_V2RAY_NOTE,
} from "./check.js";
export { liveChildPids } from "./child-registry.js";
export {
  type Core,
  type CoreEndpoint,
  CoreStartError,
  type CoreStartFailure,
  type StartCoreOptions,
  startCore,
} from "./core.js";
export {
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_PROBE_URL,
  type EnvSource,
  locateV2ray,
  type ProbeEnv,
  ProbeEnvError,
  parseProbeUrl,
  parseTimeoutMs,
  readProbeEnv,
} from "./env.js";
export { type ByteCount, ByteMeter } from "./meter.js";
export type { DownloadVia, PathKind, TrafficCounted } from "./precision/download-path.js";
export {
  isForbiddenAddress,
  isForbiddenHostname,
  type Resolver,
  redirectRefusal,
} from "./precision/forbidden-address.js";
export {
  DEFAULT_PRECISION_TEST_URL,
  expandTestUrl,
  type PrecisionDownloadOptions,
  type PrecisionProgress,
  type PrecisionResult,
  type PrecisionStatus,
  precisionDownload,
  type UrlAttempt,
} from "./precision/precision-download.js";
export { RATE_WINDOW_MS } from "./precision/rate-windows.js";
export { type SupportKind, type ThroughNodeSupport, throughNodeSupport } from "./support.js";
export {
  DEFAULT_TCP_ATTEMPTS,
  type TcpAttempt,
  type TcpProbeOptions,
  type TcpProbeResult,
  type TcpTarget,
  tcpProbe,
  tcpProbeMany,
} from "./tcp.js";
export {
  type OpenThroughNodeOptions,
  openThroughNode,
  type ThroughNode,
  ThroughNodeError,
  type ThroughNodeFailure,
} from "./through-node.js";
export { buildCoreConfig, buildOutbound, type V2rayConfig } from "./v2ray-config.js";
