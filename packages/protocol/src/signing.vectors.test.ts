/**
 * Known-answer tests: test-vectors/signatures.json is written by test-vectors/generate.py (Python,
 * independent of signRequest), so these pin the TypeScript signer and verifier to the wire format.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { signLegacyRequest, signRequest, verifyRequest } from "./signing.js";

interface Vector {
  name: string;
  scheme: "v1" | "legacy";
  secrets: string[];
  timestamp: number | string;
  now: number;
  tolerance_s: number;
  body_base64: string;
  headers: Record<string, string>;
  valid: boolean;
  expected_code?: string;
}

const file = new URL("../test-vectors/signatures.json", import.meta.url);
const { vectors } = JSON.parse(readFileSync(file, "utf8")) as { vectors: Vector[] };

function verify(v: Vector, headers: Record<string, string> | Headers = v.headers) {
  return verifyRequest({
    body: Buffer.from(v.body_base64, "base64"),
    headers,
    secrets: v.secrets,
    now: v.now,
    toleranceS: v.tolerance_s,
    acceptLegacy: v.scheme === "legacy",
  });
}

describe("signature test vectors", () => {
  it("cover what the issue asks for", () => {
    const bodies = vectors.map((v) => Buffer.from(v.body_base64, "base64"));
    expect(vectors.length).toBeGreaterThanOrEqual(20);
    for (const scheme of ["v1", "legacy"])
      expect(vectors.some((v) => v.scheme === scheme && v.valid)).toBe(true);
    expect(vectors.some((v) => v.secrets.some((s) => s.startsWith("whsec_")))).toBe(true);
    expect(vectors.some((v) => v.secrets.some((s) => !s.startsWith("whsec_")))).toBe(true);
    expect(vectors.some((v) => v.valid && v.headers["webhook-signature"]?.includes(" v1,"))).toBe(true);
    expect(vectors.some((v) => v.valid && v.secrets.length === 2)).toBe(true);
    expect(bodies.some((b) => b[0] === 0x1f && b[1] === 0x8b)).toBe(true); // gzip
    expect(bodies.some((b) => b.some((byte) => byte > 0x7f) && b.toString("utf8").includes("节点"))).toBe(
      true,
    );
    expect(vectors.some((v) => v.scheme === "legacy" && typeof v.timestamp === "number")).toBe(true);
    expect(vectors.some((v) => v.scheme === "legacy" && typeof v.timestamp === "string" && v.valid)).toBe(
      true,
    );
    const outside = vectors.filter((v) => v.expected_code === "outside_tolerance");
    const seconds = (v: Vector) =>
      typeof v.timestamp === "number" ? v.timestamp : Date.parse(v.timestamp) / 1000;
    expect(outside.some((v) => seconds(v) < v.now)).toBe(true);
    expect(outside.some((v) => seconds(v) > v.now)).toBe(true);
    expect(vectors.some((v) => v.expected_code === "naive_timestamp")).toBe(true);
    expect(vectors.some((v) => /tampered body/.test(v.name) && !v.valid)).toBe(true);
    expect(vectors.some((v) => /wrong secret/.test(v.name) && !v.valid)).toBe(true);
  });

  describe.each(vectors.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    it(`verifyRequest says ${v.valid ? "valid" : (v.expected_code ?? "invalid")}`, () => {
      const result = verify(v);
      expect(result.ok ? "valid" : result.code).toBe(v.valid ? "valid" : v.expected_code);
      if (result.ok) {
        expect(result.scheme).toBe(v.scheme);
        if (v.scheme === "v1") expect(result.id).toBe(v.headers["webhook-id"]);
      }
      // Same verdict through a fetch Headers object.
      const fetchHeaders = verify(v, new Headers(v.headers));
      expect(fetchHeaders.ok ? "valid" : fetchHeaders.code).toBe(result.ok ? "valid" : result.code);
    });

    if (v.valid) {
      it("the TypeScript signer writes the same signature", () => {
        const result = verify(v);
        if (!result.ok) throw new Error(result.reason);
        const secret = [v.secrets[result.secretIndex]!];
        const body = Buffer.from(v.body_base64, "base64");
        if (v.scheme === "v1") {
          const signed = signRequest({
            body,
            secrets: secret,
            id: v.headers["webhook-id"]!,
            timestamp: Number(v.headers["webhook-timestamp"]),
          });
          expect(v.headers["webhook-signature"]!.split(" ")).toContain(signed["webhook-signature"]);
        } else {
          const sent = v.headers["X-Webhook-Signature"]!;
          const signed = signLegacyRequest({
            body,
            secrets: secret,
            timestamp: v.headers["X-Webhook-Timestamp"]!,
            prefix: sent.startsWith("sha256="),
          });
          expect(signed["x-webhook-signature"]).toBe(sent);
        }
      });
    }
  });
});
