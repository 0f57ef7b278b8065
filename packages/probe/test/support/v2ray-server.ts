/**
 * Real nodes on loopback: ONE v2ray server process with an inbound per protocol variant, each
 * forwarding (freedom) to wherever the client asks — the local target in the tests.
 */
import { spawn } from "node:child_process";
import type { ShareLink } from "@viper/protocol";
import { leaseLoopbackPorts } from "../../src/ports.js";
import { link, PASSWORD, UUID } from "./links.js";
import type { Pem } from "./tls-cert.js";

export const NODE_NAMES = [
  "vmess",
  "vmessWs",
  "vmessLegacyAlterId",
  "vless",
  "vlessWsTls",
  "trojanTls",
  "trojanNoTls",
  "ssGcm",
  "ssChacha",
  "ssPluginWs",
  "socks",
  "socksAuth",
  "http",
] as const;
export type NodeName = (typeof NODE_NAMES)[number];

export interface V2rayServer {
  pid: number;
  nodes: Record<NodeName, ShareLink>;
  close(): Promise<void>;
}

type Inbound = Record<string, unknown>;

export async function startV2rayServer(v2rayBin: string, pem: Pem): Promise<V2rayServer> {
  const lease = await leaseLoopbackPorts(NODE_NAMES.length);
  const port = (name: NodeName) => lease.ports[NODE_NAMES.indexOf(name)]!;
  const tls = {
    security: "tls",
    tlsSettings: {
      certificates: [{ certificate: pem.cert.trim().split("\n"), key: pem.key.trim().split("\n") }],
    },
  };
  const inbound = (
    name: NodeName,
    protocol: string,
    settings: unknown,
    streamSettings?: unknown,
  ): Inbound => ({
    tag: name,
    listen: "127.0.0.1",
    port: port(name),
    protocol,
    settings,
    ...(streamSettings ? { streamSettings } : {}),
  });
  const inbounds: Inbound[] = [
    inbound("vmess", "vmess", { clients: [{ id: UUID, alterId: 0 }] }),
    inbound(
      "vmessWs",
      "vmess",
      { clients: [{ id: UUID, alterId: 0 }] },
      { network: "ws", wsSettings: { path: "/vm" } },
    ),
    inbound("vmessLegacyAlterId", "vmess", { clients: [{ id: UUID, alterId: 4 }] }),
    inbound("vless", "vless", { clients: [{ id: UUID }], decryption: "none" }),
    inbound(
      "vlessWsTls",
      "vless",
      { clients: [{ id: UUID }], decryption: "none" },
      { network: "ws", wsSettings: { path: "/vl" }, ...tls },
    ),
    inbound("trojanTls", "trojan", { clients: [{ password: PASSWORD }] }, { network: "tcp", ...tls }),
    inbound(
      "trojanNoTls",
      "trojan",
      { clients: [{ password: PASSWORD }] },
      { network: "tcp", security: "none" },
    ),
    inbound("ssGcm", "shadowsocks", { method: "aes-128-gcm", password: PASSWORD, network: "tcp" }),
    inbound("ssChacha", "shadowsocks", {
      method: "chacha20-ietf-poly1305",
      password: PASSWORD,
      network: "tcp",
    }),
    inbound(
      "ssPluginWs",
      "shadowsocks",
      { method: "aes-256-gcm", password: PASSWORD, network: "tcp" },
      { network: "ws", wsSettings: { path: "/ss" } },
    ),
    inbound("socks", "socks", { auth: "noauth", udp: false }),
    inbound("socksAuth", "socks", {
      auth: "password",
      accounts: [{ user: "alice", pass: PASSWORD }],
      udp: false,
    }),
    inbound("http", "http", { accounts: [{ user: "bob", pass: PASSWORD }] }),
  ];
  const config = {
    log: { loglevel: "warning" },
    inbounds,
    outbounds: [{ protocol: "freedom", settings: {} }],
  };

  const child = spawn(v2rayBin, ["-config", "stdin:"], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/V2Ray \S+ started/.test(output)) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`test v2ray server exited (${code}): ${output}`)));
    child.stdin.end(JSON.stringify(config));
  });
  child.stdout.resume();
  child.stderr.resume();

  const nodes: Record<NodeName, ShareLink> = {
    vmess: link("vmess", port("vmess"), { uuid: UUID, alterId: 0, method: "auto" }),
    vmessWs: link("vmess", port("vmessWs"), {
      uuid: UUID,
      network: "ws",
      path: "/vm",
      hostHeader: "node.example",
    }),
    vmessLegacyAlterId: link("vmess", port("vmessLegacyAlterId"), { uuid: UUID, alterId: 4 }),
    vless: link("vless", port("vless"), { uuid: UUID, encryption: "none" }),
    vlessWsTls: link("vless", port("vlessWsTls"), {
      uuid: UUID,
      encryption: "none",
      network: "ws",
      path: "/vl",
      security: "tls",
      sni: "node.example",
      alpn: "h2,http/1.1",
      allowInsecure: true,
    }),
    trojanTls: link("trojan", port("trojanTls"), {
      password: PASSWORD,
      sni: "node.example",
      allowInsecure: true,
    }),
    trojanNoTls: link("trojan", port("trojanNoTls"), { password: PASSWORD, security: "none" }),
    ssGcm: link("ss", port("ssGcm"), { method: "aes-128-gcm", password: PASSWORD }),
    ssChacha: link("ss", port("ssChacha"), { method: "chacha20-ietf-poly1305", password: PASSWORD }),
    ssPluginWs: link("ss", port("ssPluginWs"), {
      method: "aes-256-gcm",
      password: PASSWORD,
      plugin: "v2ray-plugin;mode=websocket;path=/ss;host=node.example",
    }),
    socks: link("socks5", port("socks")),
    socksAuth: link("socks5", port("socksAuth"), { username: "alice", password: PASSWORD }),
    http: link("http", port("http"), { username: "bob", password: PASSWORD }),
  };
  return {
    pid: child.pid!,
    nodes,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      lease.release();
    },
  };
}
