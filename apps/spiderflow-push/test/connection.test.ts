import { afterEach, describe, expect, it } from "vitest";
import { PushConfigError, testConnectionUrl, testWebhookConnection } from "../src/index.js";
import { closedPort, startTestReceiver, type TestReceiver, testSecret } from "./helpers.js";

const secret = testSecret();
let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function connected(skew: number) {
  return {
    status: 200,
    body: {
      status: "connected",
      receiver: "viper-store",
      protocol_version: 1,
      server_time: new Date().toISOString(),
      clock_skew_s: skew,
    },
  };
}

describe("testWebhookConnection", () => {
  it("derives the test URL from the webhook URL's origin", () => {
    expect(testConnectionUrl("https://store.example:8443/hooks/webhook/nodes-update?x=1")).toBe(
      "https://store.example:8443/webhook/test-connection",
    );
  });

  it("sends a signed request and reports the receiver and skew", async () => {
    receiver = await startTestReceiver(secret, () => connected(2));
    const result = await testWebhookConnection({ url: receiver.url, secrets: secret });
    expect(result).toMatchObject({ ok: true, receiver: "viper-store", protocolVersion: 1, clockSkewS: 2 });
    expect(result.warning).toBeUndefined();
    expect(receiver.requests[0]?.path).toBe("/webhook/test-connection");
    expect(receiver.requests[0]?.verified).toBe(true);
  });

  it("warns when the clocks differ by more than 30 s", async () => {
    receiver = await startTestReceiver(secret, () => connected(-45));
    const result = await testWebhookConnection({ url: receiver.url, secrets: secret });
    expect(result.ok).toBe(true);
    expect(result.warning).toMatch(/-45 s/);
  });

  it("reports a refused signature with the receiver's reason", async () => {
    receiver = await startTestReceiver(testSecret());
    const result = await testWebhookConnection({ url: receiver.url, secrets: secret });
    expect(result).toMatchObject({ ok: false, httpStatus: 401 });
    expect(result.error).toMatch(/signature/);
  });

  it("refuses a bad secret before sending anything", async () => {
    await expect(testWebhookConnection({ url: "http://127.0.0.1:1/x", secrets: "short" })).rejects.toThrow(
      PushConfigError,
    );
  });

  it("reports an unreachable receiver", async () => {
    const result = await testWebhookConnection({
      url: `http://127.0.0.1:${await closedPort()}/x`,
      secrets: secret,
    });
    expect(result.ok).toBe(false);
    expect(result.httpStatus).toBeUndefined();
    expect(result.error).toMatch(/ECONNREFUSED/);
  });
});
