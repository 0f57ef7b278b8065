/**
 * Free loopback ports for core inbounds. v2ray binds with SO_REUSEPORT (two v2ray processes both
 * listened on one port here, splitting its connections), so a port in use by another core of this
 * process must never be handed out again: reservations last until the core releases them.
 */
import { createServer, type Server } from "node:net";

const reserved = new Set<number>();

export interface PortLease {
  ports: number[];
  release(): void;
}

export async function leaseLoopbackPorts(count: number): Promise<PortLease> {
  const holders: Server[] = [];
  const ports: number[] = [];
  try {
    // Hold every listener open until all are found, so the kernel never returns one port twice.
    while (ports.length < count) {
      const server = await listenEphemeral();
      holders.push(server);
      const port = (server.address() as { port: number }).port;
      if (!reserved.has(port)) ports.push(port);
    }
  } finally {
    await Promise.all(holders.map((s) => new Promise((resolve) => s.close(resolve))));
  }
  for (const port of ports) reserved.add(port);
  let released = false;
  return {
    ports,
    release() {
      if (released) return;
      released = true;
      for (const port of ports) reserved.delete(port);
    },
  };
}

function listenEphemeral(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}
