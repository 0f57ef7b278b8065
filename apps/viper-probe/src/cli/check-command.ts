/** `viper-probe check <share link>`: one node through the node, the result printed. */
import type { Command } from "@commander-js/extra-typings";
import { type CheckResult, checkNode, ProbeEnvError, parseTimeoutMs, throughNodeSupport } from "@viper/probe";
import { parseShareLink } from "@viper/protocol";
import { readCheckEnv } from "../env.js";
import { type CliIo, EXIT_FAILED, EXIT_OK, UsageError } from "./io.js";

export function addCheckCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("check")
    .description("check one node through the node (HTTP to PROBE_URL) and print the result")
    .argument("<link>", "share link (vmess://, vless://, trojan://, ss://, socks5://, http://, …)")
    .option("--json", "print the result as JSON")
    .option("--timeout <ms>", "timeout in milliseconds (default PROBE_TIMEOUT_MS or 5000)")
    .action(async (rawLink, opts) => {
      const env = readCheckEnv(io.env);
      const timeoutMs = opts.timeout === undefined ? env.timeoutMs : parseOption(opts.timeout);
      const parsed = parseShareLink(rawLink.trim());
      if (!parsed.ok) throw new UsageError(`not a share link we can read: ${parsed.error}`);
      const result = await checkNode(parsed.link, {
        probeUrl: env.probeUrl,
        timeoutMs,
        v2rayBin: env.v2rayBin,
        onNotice: (message) => io.stderr(`viper-probe: ${message}\n`),
      });
      const target = `${parsed.link.protocol} ${parsed.link.host}:${parsed.link.port}`;
      if (opts.json) {
        io.stdout(`${JSON.stringify({ node: target, probe_url: env.probeUrl, ...toJson(result) })}\n`);
      } else {
        io.stdout(`${formatResult(target, result, throughNodeSupport(parsed.link).kind)}\n`);
      }
      setExit(result.ok === true ? EXIT_OK : EXIT_FAILED);
    });
}

export function parseOption(value: string): number {
  try {
    return parseTimeoutMs(value, "--timeout");
  } catch (error) {
    if (error instanceof ProbeEnvError) throw new UsageError(error.message);
    throw error;
  }
}

/** snake_case, as the store's API and the measurements payload spell it. */
export function toJson(result: CheckResult) {
  return {
    ok: result.ok,
    latency_ms: result.latencyMs,
    method: result.method,
    error: result.error,
    http_status: result.httpStatus,
    bytes_in: result.bytesIn,
    bytes_out: result.bytesOut,
    bytes_counted: result.bytesCounted,
    note: result.note,
  };
}

function formatResult(target: string, result: CheckResult, kind: string): string {
  const verdict = result.ok === true ? "PASS" : result.ok === false ? "FAIL" : "UNTESTED";
  const how =
    result.method === "through-node"
      ? `through the node (${kind === "native" ? "native proxy" : "v2ray core"})`
      : result.method === "tcp"
        ? "TCP connect only"
        : "unsupported";
  const lines = [`${verdict}  ${target}  ${how}`];
  if (result.latencyMs !== null) lines.push(`  latency   ${result.latencyMs} ms`);
  if (result.httpStatus !== null) lines.push(`  status    HTTP ${result.httpStatus}`);
  if (result.error)
    lines.push(`  ${result.method === "unsupported" ? "reason " : "error  "}   ${result.error}`);
  if (result.bytesCounted !== "none")
    lines.push(`  traffic   ${result.bytesIn} B in, ${result.bytesOut} B out`);
  if (result.note) lines.push(`  note      ${result.note}`);
  return lines.join("\n");
}
