import { readFileSync } from "node:fs";
/** The probe URL of the tests: a loopback HTTP server answering 204, like generate_204. */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createServer as createTcpServer } from "node:net";

export interface Target {
  url: string;
  hits(): number;
  close(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(204).end();
  });
  await listen(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/generate_204`,
    hits: () => hits,
    close: () => closeServer(server),
  };
}

/** Accepts TCP connections and never answers: a node that hangs. */
export interface Blackhole {
  port: number;
  close(): Promise<void>;
}

export async function startBlackhole(): Promise<Blackhole> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await listen(server);
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

/**
 * A port nothing listens on. Taken below the kernel's ephemeral range: a port that was merely
 * free a moment ago can be handed out again as an ephemeral port, e.g. to a core inbound, and
 * then the "closed" node would answer.
 */
export async function closedPort(): Promise<number> {
  const [low] = ephemeralRange();
  for (let tries = 0; tries < 200; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (taken.has(port)) continue;
    const server = createTcpServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (!free) continue;
    await closeServer(server);
    taken.add(port);
    return port;
  }
  throw new Error("no free port below the ephemeral range");
}

const taken = new Set<number>();

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high && low > 11_000) return [low, high];
  } catch {
    // not Linux
  }
  return [32_768, 60_999];
}

function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
}

function closeServer(server: Server | ReturnType<typeof createTcpServer>): Promise<void> {
  if ("closeAllConnections" in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
