import { SecretError } from "@viper/protocol";
import { EnvError } from "./env.js";
import { StartupError, startStore } from "./store.js";

/** CLI entry (`node dist/main.js`): the only place that reads process.env and exits. */
async function main(): Promise<void> {
  const store = await startStore({ ...process.env });
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    process.stderr.write(`viper-store: ${signal}: finishing in-flight deliveries, then closing\n`);
    store.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`viper-store: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  if (err instanceof EnvError || err instanceof StartupError) {
    process.stderr.write(`${err.message}\n`);
  } else if (err instanceof SecretError) {
    process.stderr.write(`viper-store: refusing to start: ${err.message}\n`);
  } else {
    process.stderr.write(`viper-store: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
