/**
 * undici dispatchers that send requests through a node: an HTTP(S) proxy node or a core inbound
 * through `ProxyAgent` (CONNECT tunnel), a SOCKS5 node through fetch-socks' connector. Each one
 * meters the bytes on its first-hop socket.
 */
import { connect as netConnect } from "node:net";
import type { ShareLink } from "@viper/protocol";
import { socksConnector } from "fetch-socks";
import { Agent, type buildConnector, type Dispatcher, Pool, ProxyAgent } from "undici";
import { type ByteMeter, meteredConnector } from "./meter.js";

export interface DispatcherOptions {
  meter: ByteMeter;
  /** Bounds the proxy handshake; the request itself is bounded by its own signal. */
  connectTimeoutMs: number;
}

/** For http, https and socks5 nodes. */
export function nativeDispatcher(link: ShareLink, options: DispatcherOptions): Dispatcher {
  if (link.protocol === "socks5") return socks5Dispatcher(link, options);
  if (link.protocol === "http" || link.protocol === "https") {
    return proxyDispatcher(proxyUrlOf(link), {
      ...options,
      proxyTls:
        link.protocol === "https"
          ? { rejectUnauthorized: link.allowInsecure !== true, ...(link.sni ? { servername: link.sni } : {}) }
          : undefined,
    });
  }
  throw new TypeError(`@viper/probe: ${link.protocol} nodes are not proxies undici can use natively`);
}

/** An HTTP(S) proxy at `proxyUrl` (credentials in the URL become Proxy-Authorization). */
export function proxyDispatcher(
  proxyUrl: string,
  options: DispatcherOptions & { proxyTls?: buildConnector.BuildOptions | undefined },
): Dispatcher {
  return new ProxyAgent({
    uri: proxyUrl,
    proxyTls: { timeout: options.connectTimeoutMs, ...options.proxyTls },
    connectTimeout: options.connectTimeoutMs,
    // One connection per check: no pooling between checks, nothing left half-open.
    clientFactory: (origin, opts) => {
      const { connect } = opts as { connect: buildConnector.connector };
      return new Pool(origin, {
        ...opts,
        connections: 1,
        connect: meteredConnector(connect, options.meter),
        // undici's CONNECT ignores the request's abort signal (a proxy that accepts and never
        // answers held a request forever); this bounds the tunnel set-up instead.
        headersTimeout: options.connectTimeoutMs,
      });
    },
  });
}

function socks5Dispatcher(link: ShareLink, options: DispatcherOptions): Dispatcher {
  type SocksProxy = Exclude<Parameters<typeof socksConnector>[0], unknown[]>;
  const proxy: SocksProxy = {
    type: 5,
    host: link.host,
    port: link.port,
    ...(link.username ? { userId: link.username } : {}),
    ...(link.password ? { password: link.password } : {}),
  };
  const throughSocks = socksConnector(proxy, { timeout: options.connectTimeoutMs });
  // We open the TCP connection to the node ourselves and hand it to the SOCKS client
  // (`httpSocket` becomes its `existing_socket`), so the metered socket is the one on the wire.
  const connector: buildConnector.connector = (connectOptions, callback) => {
    const socket = netConnect({ host: link.host, port: link.port });
    options.meter.track(socket);
    const onError = (error: Error) => callback(error, null);
    socket.setTimeout(options.connectTimeoutMs, () =>
      socket.destroy(new Error(`no answer from the SOCKS5 node within ${options.connectTimeoutMs} ms`)),
    );
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.removeListener("error", onError);
      socket.setTimeout(0);
      throughSocks({ ...connectOptions, httpSocket: socket }, callback);
    });
  };
  return new Agent({ connections: 1, connect: connector });
}

export function proxyUrlOf(link: ShareLink): string {
  const scheme = link.protocol === "https" ? "https" : "http";
  const host = link.host.includes(":") ? `[${link.host}]` : link.host;
  const auth =
    link.username || link.password
      ? `${encodeURIComponent(link.username ?? "")}:${encodeURIComponent(link.password ?? "")}@`
      : "";
  return `${scheme}://${auth}${host}:${link.port}`;
}
