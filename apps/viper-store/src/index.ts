export { type AppDeps, createApp } from "./app.js";
export { type Database, type Db, type DriverName, openDatabase } from "./db/client.js";
export { type Env, EnvError, type EnvInput, parseEnv } from "./env.js";
export {
  type MergeInput,
  type MergeOutcome,
  type MergeSuccess,
  mergeDelivery,
} from "./services/merge-delivery.js";
export { type NodeView, toNodeView } from "./services/node-query.js";
export { type RunningStore, type StartStoreOptions, StartupError, startStore } from "./store.js";
