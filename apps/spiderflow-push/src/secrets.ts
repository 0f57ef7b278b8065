import { parseSecrets } from "@viper/protocol";
import { PushConfigError } from "./errors.js";

/**
 * Splits and checks `WEBHOOK_SECRET` as written (one string, space-separated, or a list), so a bad
 * secret fails when the pusher or feed is created, with the protocol's message (too short, leaked …).
 */
export function checkSecrets(secrets: string | readonly string[]): string[] {
  const list = (typeof secrets === "string" ? secrets.split(/\s+/) : [...secrets]).filter((s) => s !== "");
  try {
    parseSecrets(list);
  } catch (error) {
    throw new PushConfigError("secrets", (error as Error).message);
  }
  return list;
}
