import type { PayloadIssue } from "@viper/protocol";

/** Bad configuration (a missing or malformed setting). The message names the setting and what to do. */
export class PushConfigError extends Error {
  override readonly name = "PushConfigError";
  /** The option or environment variable at fault. */
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(message);
    this.setting = setting;
  }
}

/** The input could not be turned into a v1 payload (envelope errors, DESIGN 3.3). Nothing was sent. */
export class PayloadError extends Error {
  override readonly name = "PayloadError";
  readonly issues: PayloadIssue[];

  constructor(issues: PayloadIssue[]) {
    const detail = issues.map((issue) => `${issue.path || "(payload)"}: ${issue.message}`).join("; ");
    super(`the payload is not a valid v1 payload: ${detail}`);
    this.issues = issues;
  }
}
