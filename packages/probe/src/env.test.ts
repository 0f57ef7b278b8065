import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_PROBE_URL,
  locateV2ray,
  ProbeEnvError,
  readProbeEnv,
} from "./env.js";

const dir = mkdtempSync(join(tmpdir(), "viper-probe-env-"));
const fakeBin = join(dir, "v2ray");
writeFileSync(fakeBin, "#!/bin/sh\n");
chmodSync(fakeBin, 0o755);
const notExecutable = join(dir, "plain-file");
writeFileSync(notExecutable, "");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readProbeEnv", () => {
  it("has the documented defaults", () => {
    expect(readProbeEnv({ PATH: "" })).toEqual({
      probeUrl: DEFAULT_PROBE_URL,
      timeoutMs: DEFAULT_PROBE_TIMEOUT_MS,
      v2rayBin: null,
    });
    expect(DEFAULT_PROBE_URL).toBe("https://www.gstatic.com/generate_204");
    expect(DEFAULT_PROBE_TIMEOUT_MS).toBe(5000);
  });

  it("reads PROBE_URL and PROBE_TIMEOUT_MS", () => {
    const env = readProbeEnv({ PATH: "", PROBE_URL: "http://127.0.0.1:9/204", PROBE_TIMEOUT_MS: "1500" });
    expect(env.probeUrl).toBe("http://127.0.0.1:9/204");
    expect(env.timeoutMs).toBe(1500);
  });

  it.each([
    ["PROBE_URL", { PROBE_URL: "not a url" }],
    ["PROBE_URL", { PROBE_URL: "ftp://a.example/x" }],
    ["PROBE_TIMEOUT_MS", { PROBE_TIMEOUT_MS: "5s" }],
    ["PROBE_TIMEOUT_MS", { PROBE_TIMEOUT_MS: "0" }],
    ["V2RAY_BIN", { V2RAY_BIN: join(dir, "missing") }],
    ["V2RAY_BIN", { V2RAY_BIN: notExecutable }],
  ])("a bad %s is an error naming it", (variable, env) => {
    try {
      readProbeEnv({ PATH: "", ...env });
      expect.unreachable("should have thrown");
    } catch (error) {
      expect(error).toBeInstanceOf(ProbeEnvError);
      expect((error as ProbeEnvError).variable).toBe(variable);
      expect((error as Error).message).toContain(variable);
    }
  });
});

describe("locateV2ray", () => {
  it("prefers V2RAY_BIN, then searches PATH, else null", () => {
    expect(locateV2ray({ V2RAY_BIN: fakeBin, PATH: "" })).toBe(fakeBin);
    expect(locateV2ray({ PATH: `/nonexistent:${dir}` })).toBe(fakeBin);
    expect(locateV2ray({ PATH: "/nonexistent" })).toBeNull();
  });
});
