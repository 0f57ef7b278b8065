/**
 * Benchmarks of issue 10 (the precision test's meter):
 * 1. Unthrottled loopback, direct: precisionDownload's MB/s against `curl -o /dev/null` of the same
 *    URL in the same run (target ≥ 0.8×), both as bytes / (total − time to first byte).
 * 2. Accuracy: a server paced at 2, 8 and 32 MB/s (200 ms TTFB), direct and through real nodes.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { liveChildPids } from "../src/child-registry.js";
import { precisionDownload } from "../src/precision/precision-download.js";
import { median } from "../src/tcp.js";
import { selfSignedCert } from "../test/support/tls-cert.js";
import { startV2rayServer } from "../test/support/v2ray-server.js";

const MB = 1_000_000;
const run = promisify(execFile);

async function startServerProcess(): Promise<{ origin: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL("./file-server-process.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "inherit"] });
  const origin = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(String(d).trim()));
    child.once("exit", (code) => reject(new Error(`file server exited (${code})`)));
  });
  return { origin, child };
}

async function curlMbPerS(url: string): Promise<number> {
  const { stdout } = await run("curl", [
    "-s",
    "-o",
    "/dev/null",
    "-H",
    "Accept-Encoding: identity",
    "-w",
    "%{size_download} %{time_starttransfer} %{time_total}",
    url,
  ]);
  const [size, ttfb, total] = stdout.trim().split(" ").map(Number) as [number, number, number];
  return size / MB / (total - ttfb);
}

/** The ceiling of any Node reader: a bare socket, no HTTP parsing, bytes counted from the first one. */
async function bareSocketMbPerS(url: string): Promise<number> {
  const target = new URL(url);
  const socket = connect(Number(target.port), target.hostname);
  socket.write(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`,
  );
  let bytes = 0;
  let first = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on("data", (chunk: Buffer) => {
      first ||= performance.now();
      bytes += chunk.byteLength;
    });
    socket.once("end", resolve);
    socket.once("error", reject);
  });
  socket.destroy();
  return bytes / MB / ((performance.now() - first) / 1000);
}

export async function benchPrecision(v2rayBin: string | null): Promise<void> {
  const server = await startServerProcess();
  try {
    const SIZE = 500 * MB;
    const url = `${server.origin}/file?bytes={bytes}`;
    const expanded = url.replace("{bytes}", String(SIZE));
    const hasCurl = await run("curl", ["--version"]).then(
      () => true,
      () => false,
    );
    // Warm-up (JIT, first connections).
    await precisionDownload({ direct: true, sizeBytes: 20 * MB, urls: [url], maxSeconds: 30 });
    const meter: number[] = [];
    const curl: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < 5; i++) {
      bare.push(await bareSocketMbPerS(expanded));
      const r = await precisionDownload({ direct: true, sizeBytes: SIZE, urls: [url], maxSeconds: 30 });
      meter.push(r.mb_per_s ?? 0);
      if (hasCurl) curl.push(await curlMbPerS(expanded));
    }
    console.log(
      `\n## Precision meter, unthrottled loopback, direct, ${SIZE / MB} MB (file server in its own process)`,
    );
    console.log(
      `meter: ${median(meter).toFixed(0)} MB/s (runs ${meter.map((m) => m.toFixed(0)).join(", ")})`,
    );
    console.log(
      `bare Node socket (no HTTP parsing): ${median(bare).toFixed(0)} MB/s (runs ${bare.map((m) => m.toFixed(0)).join(", ")})`,
    );
    if (hasCurl) {
      console.log(
        `curl:  ${median(curl).toFixed(0)} MB/s (runs ${curl.map((m) => m.toFixed(0)).join(", ")})`,
      );
      console.log(`ratio meter/curl: ${(median(meter) / median(curl)).toFixed(2)} (target >= 0.8)`);
    } else console.log("curl not found: comparison skipped");

    const nodes = v2rayBin ? await startV2rayServer(v2rayBin, selfSignedCert()!) : null;
    console.log(
      "\n## Accuracy: paced server, 200 ms TTFB, 1 s of body (MB/s, p90, ttfb ms, traffic − body bytes)",
    );
    for (const rate of [2, 8, 32]) {
      const vias = [
        ["direct", { direct: true as const }],
        ...(nodes
          ? ([
              ["vmess (core)", { link: nodes.nodes.vmess, v2rayBin }],
              ["vless ws+tls (core)", { link: nodes.nodes.vlessWsTls, v2rayBin }],
              ["http proxy (native)", { link: nodes.nodes.http }],
            ] as const)
          : []),
      ] as const;
      for (const [name, via] of vias) {
        const r = await precisionDownload({
          ...via,
          sizeBytes: rate * MB,
          urls: [`${server.origin}/file?bytes={bytes}&rate=${rate * MB}&ttfb=200`],
          maxSeconds: 10,
        });
        const error = (((r.mb_per_s ?? 0) - rate) / rate) * 100;
        console.log(
          `${String(rate).padStart(2)} MB/s ${name.padEnd(20)} ${r.status} ${r.mb_per_s} MB/s (${error >= 0 ? "+" : ""}${error.toFixed(1)} %), ` +
            `p90 ${r.p90_mb_per_s}, ttfb ${r.ttfb_ms}, +${r.traffic_consumed_bytes - r.bytes_downloaded} B`,
        );
      }
    }
    await nodes?.close();
    console.log(`cores left running: ${liveChildPids().length}`);
  } finally {
    server.child.stdin!.end();
    await new Promise((r) => server.child.once("exit", r));
  }
}
