/**
 * Bytes on the wire for the traffic ledger: counted on the socket of the first hop (to the proxy
 * node, or to the local core inbound), read from Node's own `bytesRead`/`bytesWritten`. fetch
 * decompresses and hides framing, so response sizes would undercount.
 */
import type { Socket } from "node:net";
import type { buildConnector } from "undici";

export interface ByteCount {
  bytesIn: number;
  bytesOut: number;
}

export class ByteMeter {
  private closedIn = 0;
  private closedOut = 0;
  private readonly open = new Set<Socket>();

  track(socket: Socket): void {
    const raw = innermostSocket(socket);
    if (this.open.has(raw)) return;
    this.open.add(raw);
    raw.once("close", () => {
      this.closedIn += raw.bytesRead;
      this.closedOut += raw.bytesWritten;
      this.open.delete(raw);
    });
  }

  totals(): ByteCount {
    let bytesIn = this.closedIn;
    let bytesOut = this.closedOut;
    for (const s of this.open) {
      bytesIn += s.bytesRead;
      bytesOut += s.bytesWritten;
    }
    return { bytesIn, bytesOut };
  }

  /** Destroys sockets still open (e.g. a connect that outlived an abort). */
  destroyAll(): void {
    for (const s of this.open) s.destroy();
  }
}

/** Wraps an undici connector so every socket it yields is metered. */
export function meteredConnector(
  connector: buildConnector.connector,
  meter: ByteMeter,
): buildConnector.connector {
  return (options, callback) => {
    connector(options, (...args) => {
      const socket = args[1];
      if (socket) meter.track(socket);
      callback(...args);
    });
  };
}

/**
 * A TLS socket layered over another socket reports plaintext counts; its `_parent` (set by Node's
 * tls.connect({ socket })) is the one on the wire. Undocumented, so fall back to the socket itself.
 */
function innermostSocket(socket: Socket): Socket {
  let current = socket;
  for (let depth = 0; depth < 4; depth++) {
    const parent = (current as Socket & { _parent?: unknown })._parent;
    if (!parent || typeof parent !== "object" || !("bytesRead" in parent)) break;
    current = parent as Socket;
  }
  return current;
}
