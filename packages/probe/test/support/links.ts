import type { ShareLink } from "@viper/protocol";

export const UUID = "5f3c1a2e-8d4b-4c6a-9e7f-0a1b2c3d4e5f";
export const OTHER_UUID = "0e9d8c7b-6a59-4837-a261-5f4e3d2c1b0a";
export const PASSWORD = "correct-horse-battery";

/** A ShareLink as @viper/protocol's parser would produce it, on loopback. */
export function link(
  protocol: ShareLink["protocol"],
  port: number,
  extra: Partial<ShareLink> = {},
): ShareLink {
  return {
    protocol,
    host: "127.0.0.1",
    port,
    name: `${protocol}-${port}`,
    network: "tcp",
    security: protocol === "trojan" ? "tls" : "none",
    params: {},
    ...extra,
  };
}
