/** N live loopback nodes (vmess, vless, trojan without TLS, shadowsocks in turn) in ONE v2ray server. */
import { spawn } from "node:child_process";
import type { ShareLink } from "@viper/protocol";
import { leaseLoopbackPorts } from "../src/ports.js";
import { link, PASSWORD, UUID } from "../test/support/links.js";

const KINDS = ["vmess", "vless", "trojan", "ss"] as const;

export async function startLoopbackNodes(v2rayBin: string, count: number) {
  const lease = await leaseLoopbackPorts(count);
  const links: ShareLink[] = [];
  const inbounds = lease.ports.map((port, i) => {
    const kind = KINDS[i % KINDS.length]!;
    const base = { listen: "127.0.0.1", port };
    switch (kind) {
      case "vmess":
        links.push(link("vmess", port, { uuid: UUID }));
        return { ...base, protocol: "vmess", settings: { clients: [{ id: UUID, alterId: 0 }] } };
      case "vless":
        links.push(link("vless", port, { uuid: UUID, encryption: "none" }));
        return { ...base, protocol: "vless", settings: { clients: [{ id: UUID }], decryption: "none" } };
      case "trojan":
        links.push(link("trojan", port, { password: PASSWORD, security: "none" }));
        return { ...base, protocol: "trojan", settings: { clients: [{ password: PASSWORD }] } };
      default:
        links.push(link("ss", port, { method: "aes-128-gcm", password: PASSWORD }));
        return { ...base, protocol: "shadowsocks", settings: { method: "aes-128-gcm", password: PASSWORD } };
    }
  });
  const config = { log: { loglevel: "warning" }, inbounds, outbounds: [{ protocol: "freedom" }] };
  const child = spawn(v2rayBin, ["-config", "stdin:"], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (/started/.test(out)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`bench server exited ${code}: ${out}`)));
    child.stdin.end(JSON.stringify(config));
  });
  child.stdout.resume();
  return {
    links,
    close: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      lease.release();
    },
  };
}
