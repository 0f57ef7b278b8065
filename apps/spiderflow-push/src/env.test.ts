import { describe, expect, it } from "vitest";
import { DEFAULT_WEBHOOK_URL, parseSenderEnv, requireSecret } from "./env.js";
import { PushConfigError } from "./errors.js";

describe("parseSenderEnv", () => {
  it("applies the documented defaults", () => {
    expect(parseSenderEnv({})).toEqual({
      webhookUrl: DEFAULT_WEBHOOK_URL,
      webhookSecret: undefined,
      historyFile: "./data/push-history.jsonl",
      retries: 3,
      retryDelayMs: 5000,
      timeoutMs: 15000,
    });
    expect(parseSenderEnv({ PUSH_RETRIES: "" }).retries).toBe(3);
  });

  it.each([
    ["PUSH_RETRIES", "three"],
    ["PUSH_RETRIES", "-1"],
    ["PUSH_RETRY_DELAY_MS", "1.5"],
    ["PUSH_TIMEOUT_MS", "0"],
    ["VIPER_WEBHOOK_URL", "localhost:8002"],
    ["VIPER_WEBHOOK_URL", "ftp://x.example/"],
  ])("refuses %s=%s naming the variable", (variable, value) => {
    let caught: unknown;
    try {
      parseSenderEnv({ [variable]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PushConfigError);
    expect((caught as PushConfigError).setting).toBe(variable);
    expect((caught as Error).message).toContain(variable);
  });

  it("requires WEBHOOK_SECRET for signing commands, saying so", () => {
    expect(() => requireSecret(parseSenderEnv({}), "push")).toThrow(/WEBHOOK_SECRET is not set/);
    expect(requireSecret(parseSenderEnv({ WEBHOOK_SECRET: "x".repeat(40) }), "push")).toBe("x".repeat(40));
  });
});
