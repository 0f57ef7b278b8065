/** The loopback world of the end-to-end suites: a 204 target, real v2ray nodes, dead endpoints. */

import { type Blackhole, closedPort, startBlackhole, startTarget, type Target } from "./target.js";
import { selfSignedCert } from "./tls-cert.js";
import { startV2rayServer, type V2rayServer } from "./v2ray-server.js";

export interface World {
  target: Target;
  server: V2rayServer;
  blackhole: Blackhole;
  closedPort: number;
  close(): Promise<void>;
}

export async function startWorld(v2rayBin: string): Promise<World> {
  const pem = selfSignedCert();
  if (!pem) throw new Error("openssl is needed to make the test certificate (apt-get install openssl)");
  const [target, server, blackhole, closed] = await Promise.all([
    startTarget(),
    startV2rayServer(v2rayBin, pem),
    startBlackhole(),
    closedPort(),
  ]);
  return {
    target,
    server,
    blackhole,
    closedPort: closed,
    close: async () => {
      await Promise.all([target.close(), server.close(), blackhole.close()]);
    },
  };
}
