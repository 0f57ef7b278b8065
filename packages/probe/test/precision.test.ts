/**
 * precisionDownload against real servers on loopback: a paced file server (known rate and TTFB),
 * direct and through real nodes (a v2ray vmess inbound through our own core, an http proxy node).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveChildPids } from "../src/child-registry.js";
import {
  type PrecisionDownloadOptions,
  type PrecisionProgress,
  precisionDownload,
} from "../src/precision/precision-download.js";
import { ThroughNodeError } from "../src/through-node.js";
import { link, UUID } from "./support/links.js";
import { closedPort } from "./support/target.js";
import { startThrottledServer, type ThrottledServer } from "./support/throttled-server.js";
import { selfSignedCert } from "./support/tls-cert.js";
import { isRunning, NODES_SKIP_REASON, needsNodes, V2RAY } from "./support/v2ray.js";
import { startV2rayServer, type V2rayServer } from "./support/v2ray-server.js";

const MB = 1_000_000;
const KIB64 = 64 * 1024;

let files: ThrottledServer;
beforeAll(async () => {
  files = await startThrottledServer();
});
afterAll(async () => {
  await files?.close();
});

/** A test URL template on the paced server: `{bytes}` is filled in by precisionDownload. */
function fileUrl(query: Record<string, string | number> = {}): string {
  const extra = Object.entries(query).map(([k, v]) => `&${k}=${encodeURIComponent(String(v))}`);
  return `${files.origin}/file?bytes={bytes}${extra.join("")}`;
}

function direct(overrides: Partial<PrecisionDownloadOptions>): PrecisionDownloadOptions {
  return {
    direct: true,
    sizeBytes: MB,
    urls: [fileUrl()],
    maxSeconds: 10,
    ...overrides,
  } as PrecisionDownloadOptions;
}

describe("precisionDownload, direct", () => {
  it("measures a 2 MB/s download within 5 %, TTFB excluded, p90 sensible, progress ≥ 4/s", async () => {
    const progress: PrecisionProgress[] = [];
    const started = performance.now();
    const result = await precisionDownload(
      direct({
        sizeBytes: 2 * MB,
        urls: [fileUrl({ rate: 2 * MB, ttfb: 200 })],
        onProgress: (p) => progress.push(p),
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    expect(result).toMatchObject({ status: "success", via: "direct", path: "direct", error: null });
    expect(result.bytes_downloaded).toBe(2 * MB);
    expect(result.ttfb_ms).toBeGreaterThanOrEqual(195);
    expect(result.ttfb_ms).toBeLessThan(350);
    // Including the 200 ms TTFB would give 2 MB / 1.2 s = 1.67 MB/s: outside the band.
    expect(result.mb_per_s).toBeGreaterThan(1.9);
    expect(result.mb_per_s).toBeLessThan(2.1);
    expect(result.mbit_per_s).toBeCloseTo(result.mb_per_s! * 8, 2);
    expect(result.duration_ms).toBeGreaterThan(900);
    expect(result.p90_mb_per_s).toBeGreaterThan(1.9);
    expect(result.p90_mb_per_s).toBeLessThan(2.4);
    // Wire bytes: the body plus request and response headers, nothing decompressed or invented.
    expect(result.traffic_consumed_bytes).toBeGreaterThan(2 * MB);
    expect(result.traffic_consumed_bytes).toBeLessThan(2 * MB + 4096);
    expect(result.traffic_counted).toBe("direct-socket");
    expect(progress.length).toBeGreaterThanOrEqual(Math.floor(elapsedS * 4));
    const gaps = progress.slice(1).map((p, i) => p.elapsed_ms - progress[i]!.elapsed_ms);
    expect(Math.max(...gaps)).toBeLessThan(350);
    const mid = progress.find((p) => p.elapsed_ms > 900)!;
    expect(mid.percent).toBeGreaterThan(20);
    expect(mid.percent).toBeLessThan(100);
    expect(mid.current_mb_per_s).toBeGreaterThan(1.5);
    expect(mid.current_mb_per_s).toBeLessThan(2.5);
  });

  it("keeps reporting progress while nothing arrives (a timer, not per chunk)", async () => {
    const progress: PrecisionProgress[] = [];
    await precisionDownload(
      direct({ sizeBytes: 100_000, urls: [fileUrl({ ttfb: 700 })], onProgress: (p) => progress.push(p) }),
    );
    const waiting = progress.filter((p) => p.bytes === 0);
    expect(waiting.length).toBeGreaterThanOrEqual(3);
    expect(waiting[0]).toMatchObject({ percent: 0, current_mb_per_s: 0 });
  });

  it("stops at the byte cap when the server sends more than asked (≤ 64 KiB over)", async () => {
    const result = await precisionDownload(direct({ sizeBytes: MB, urls: [fileUrl({ send: 50 * MB })] }));
    expect(result.status).toBe("cap_reached");
    expect(result.bytes_downloaded).toBeGreaterThanOrEqual(MB);
    expect(result.bytes_downloaded).toBeLessThanOrEqual(MB + KIB64);
    expect(result.traffic_consumed_bytes).toBeLessThan(MB + 4 * KIB64);
  });

  it("also without a Content-Length (chunked)", async () => {
    const result = await precisionDownload(
      direct({ sizeBytes: MB, urls: [fileUrl({ send: 20 * MB, chunked: 1 })] }),
    );
    expect(result.status).toBe("cap_reached");
    expect(result.bytes_downloaded).toBeLessThanOrEqual(MB + KIB64);
  });

  it("stops at maxSeconds with status timeout and reports the bytes used", async () => {
    const started = performance.now();
    const result = await precisionDownload(
      direct({ sizeBytes: 20 * MB, urls: [fileUrl({ rate: MB })], maxSeconds: 1 }),
    );
    const elapsed = performance.now() - started;
    expect(result.status).toBe("timeout");
    expect(result.error).toMatch(/time cap of 1 s/);
    expect(elapsed).toBeGreaterThan(950);
    expect(elapsed).toBeLessThan(1300);
    expect(result.bytes_downloaded).toBeGreaterThan(0.7 * MB);
    expect(result.bytes_downloaded).toBeLessThan(1.1 * MB);
    expect(result.traffic_consumed_bytes).toBeGreaterThan(result.bytes_downloaded);
    expect(result.mb_per_s).toBeGreaterThan(0.9);
    expect(result.mb_per_s).toBeLessThan(1.1);
  });

  it("moves past a dead URL and a 503 to the next, with no extra request to any server", async () => {
    const before = { status: files.hits("/status/503"), file: files.hits("/file") };
    const dead = `http://127.0.0.1:${await closedPort()}/file?bytes={bytes}`;
    const failing = `${files.origin}/status/503?bytes={bytes}`;
    const result = await precisionDownload(direct({ urls: [dead, failing, fileUrl()] }));
    expect(result.status).toBe("success");
    expect(result.url).toBe(`${files.origin}/file?bytes=${MB}`);
    expect(result.attempts.map((a) => [a.http_status, a.error])).toEqual([
      [null, "connection refused"],
      [503, "answered HTTP 503"],
      [200, null],
    ]);
    expect(files.hits("/status/503") - before.status).toBe(1);
    expect(files.hits("/file") - before.file).toBe(1);
  });

  it("fails, saying why for each URL, when none answers", async () => {
    const result = await precisionDownload(
      direct({ urls: [`${files.origin}/status/404`, `${files.origin}/status/500`] }),
    );
    expect(result.status).toBe("failed");
    expect(result.error).toBe(
      `no test URL answered: ${files.origin}/status/404: answered HTTP 404; ${files.origin}/status/500: answered HTTP 500`,
    );
    expect(result.bytes_downloaded).toBe(0);
    expect(result.traffic_consumed_bytes).toBeGreaterThan(0);
  });

  it("reports a download that breaks off as failed, with the bytes it used", async () => {
    const result = await precisionDownload(direct({ urls: [fileUrl({ drop: 300_000 })] }));
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(
      /^the download broke off after 300000 bytes: the server closed the connection/,
    );
    expect(result.bytes_downloaded).toBe(300_000);
    expect(result.traffic_consumed_bytes).toBeGreaterThan(300_000);
    expect(result.attempts[0]!.http_status).toBe(200);
  });

  it("follows a redirect to an allowed host (loopback) and names both URLs", async () => {
    const target = `${files.origin}/file?bytes=${MB}`;
    const redirect = `${files.origin}/redirect?to=${encodeURIComponent(target)}&bytes={bytes}`;
    const result = await precisionDownload(direct({ urls: [redirect] }));
    expect(result.status).toBe("success");
    expect(result.url).toBe(redirect.replace("{bytes}", String(MB)));
    expect(result.final_url).toBe(target);
    expect(result.attempts[0]!.redirects).toEqual([target]);
  });

  it.each([
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://2852039166/", // 169.254.169.254 as one number
    "http://[::ffff:169.254.169.254]/",
    "http://100.100.100.200/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
  ])("refuses a redirect to %s and uses the next URL", async (forbidden) => {
    const redirect = `${files.origin}/redirect?to=${encodeURIComponent(forbidden)}`;
    const result = await precisionDownload(direct({ urls: [redirect, fileUrl()] }));
    expect(result.status).toBe("success");
    expect(result.url).toBe(`${files.origin}/file?bytes=${MB}`);
    expect(result.attempts[0]!.http_status).toBe(302);
    expect(result.attempts[0]!.error).toMatch(/refused/);
  });

  it("fails when the only URL redirects to the metadata address", async () => {
    const redirect = `${files.origin}/redirect?to=${encodeURIComponent("http://169.254.169.254/")}`;
    const result = await precisionDownload(direct({ urls: [redirect] }));
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/link-local\/metadata address 169\.254\.169\.254 is refused/);
  });

  it("gives up after a few redirects", async () => {
    let url = fileUrl();
    for (let i = 0; i < 5; i++) url = `${files.origin}/redirect?to=${encodeURIComponent(url)}`;
    const result = await precisionDownload(direct({ urls: [url], maxRedirects: 3 }));
    expect(result.status).toBe("failed");
    expect(result.attempts[0]!.error).toBe("more than 3 redirects");
  });

  it("aborts within ~200 ms, keeps the bytes used, and the server sees the connection end", async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const pending = precisionDownload(
      direct({
        sizeBytes: 20 * MB,
        urls: [fileUrl({ rate: 2 * MB })],
        signal: controller.signal,
        onProgress: (p) => {
          if (p.elapsed_ms >= 500 && abortedAt === 0) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      }),
    );
    const result = await pending;
    expect(performance.now() - abortedAt).toBeLessThan(200);
    expect(result.status).toBe("aborted");
    expect(result.bytes_downloaded).toBeGreaterThan(0.5 * MB);
    expect(result.traffic_consumed_bytes).toBeGreaterThan(result.bytes_downloaded);
    const sentAtAbort = files.bytesWritten();
    await new Promise((r) => setTimeout(r, 300));
    expect(files.openConnections()).toBe(0);
    expect(files.bytesWritten() - sentAtAbort).toBeLessThan(KIB64);
  });

  it("returns at once for a signal aborted before the start", async () => {
    const result = await precisionDownload(direct({ signal: AbortSignal.abort() }));
    expect(result.status).toBe("aborted");
    expect(result.bytes_downloaded).toBe(0);
  });

  it("refuses misuse with a TypeError naming the option", async () => {
    await expect(precisionDownload(direct({ sizeBytes: 0 }))).rejects.toThrow(/sizeBytes/);
    await expect(precisionDownload(direct({ sizeBytes: 1.5 }))).rejects.toThrow(TypeError);
    await expect(precisionDownload(direct({ urls: [] }))).rejects.toThrow(/PRECISION_TEST_URLS/);
    await expect(precisionDownload(direct({ urls: ["ftp://x.example/{bytes}"] }))).rejects.toThrow(
      /http:\/\/ or https:\/\//,
    );
    await expect(precisionDownload(direct({ maxSeconds: 0 }))).rejects.toThrow(/maxSeconds/);
  });
});

describe.skipIf(NODES_SKIP_REASON !== null)(needsNodes("precisionDownload through a node"), () => {
  let nodes: V2rayServer;
  beforeAll(async () => {
    nodes = await startV2rayServer(V2RAY!, selfSignedCert()!);
  });
  afterAll(async () => {
    await nodes?.close();
  });

  it("measures through a vmess node (its own core) within 5 %, and the core is gone after", async () => {
    let corePids: number[] = [];
    const result = await precisionDownload({
      link: nodes.nodes.vmess,
      v2rayBin: V2RAY,
      sizeBytes: 2 * MB,
      urls: [fileUrl({ rate: 2 * MB, ttfb: 200 })],
      maxSeconds: 10,
      onProgress: () => {
        if (corePids.length === 0) corePids = liveChildPids();
      },
    });
    expect(result).toMatchObject({
      status: "success",
      via: "node",
      path: "core",
      traffic_counted: "core-inbound",
    });
    expect(result.bytes_downloaded).toBe(2 * MB);
    expect(result.ttfb_ms).toBeGreaterThanOrEqual(195);
    expect(result.mb_per_s).toBeGreaterThan(1.9);
    expect(result.mb_per_s).toBeLessThan(2.1);
    expect(result.traffic_consumed_bytes).toBeGreaterThan(2 * MB);
    expect(corePids).toHaveLength(1);
    expect(isRunning(corePids[0]!)).toBe(false);
    expect(liveChildPids()).toEqual([]);
  });

  it("an abort through the core ends within ~200 ms and the core has exited", async () => {
    const controller = new AbortController();
    let corePid = 0;
    let abortedAt = 0;
    const result = await precisionDownload({
      link: nodes.nodes.vmess,
      v2rayBin: V2RAY,
      sizeBytes: 20 * MB,
      urls: [fileUrl({ rate: 4 * MB })],
      maxSeconds: 10,
      signal: controller.signal,
      onProgress: (p) => {
        corePid ||= liveChildPids()[0] ?? 0;
        if (p.bytes > MB && abortedAt === 0) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    expect(performance.now() - abortedAt).toBeLessThan(250);
    expect(result.status).toBe("aborted");
    expect(result.bytes_downloaded).toBeGreaterThan(MB);
    expect(corePid).toBeGreaterThan(0);
    expect(isRunning(corePid)).toBe(false);
  });

  it("measures through an http proxy node natively, wire bytes on the node socket", async () => {
    const result = await precisionDownload({
      link: nodes.nodes.http,
      sizeBytes: MB,
      urls: [fileUrl({ rate: 4 * MB })],
      maxSeconds: 10,
    });
    expect(result).toMatchObject({
      status: "success",
      via: "node",
      path: "native",
      traffic_counted: "node-socket",
    });
    expect(result.bytes_downloaded).toBe(MB);
    expect(result.mb_per_s).toBeGreaterThan(3.8);
    expect(result.mb_per_s).toBeLessThan(4.2);
    expect(result.traffic_consumed_bytes).toBeGreaterThan(MB);
    expect(result.traffic_consumed_bytes).toBeLessThan(MB + 8192);
  });

  it("caps bytes through the core too", async () => {
    const result = await precisionDownload({
      link: nodes.nodes.vmess,
      v2rayBin: V2RAY,
      sizeBytes: MB,
      urls: [fileUrl({ send: 50 * MB })],
      maxSeconds: 10,
    });
    expect(result.status).toBe("cap_reached");
    expect(result.bytes_downloaded).toBeLessThanOrEqual(MB + KIB64);
  });

  it("throws ThroughNodeError for a node that cannot be tested through, starting nothing", async () => {
    const error = await precisionDownload({
      link: link("vless", 443, { uuid: UUID, security: "reality" }),
      v2rayBin: V2RAY,
      sizeBytes: MB,
      urls: [fileUrl()],
      maxSeconds: 5,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThroughNodeError);
    expect((error as ThroughNodeError).failure).toBe("unsupported");
    const noCore = await precisionDownload({
      link: nodes.nodes.vmess,
      v2rayBin: null,
      sizeBytes: MB,
      urls: [fileUrl()],
      maxSeconds: 5,
    }).catch((e: unknown) => e);
    expect((noCore as ThroughNodeError).failure).toBe("no-core");
    expect(liveChildPids()).toEqual([]);
  });
});
