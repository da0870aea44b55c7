import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy to a real server (PostgreSQL in the outage tests), to be cut, stalled and
 * restored under a running process:
 * - `cut()` drops every open connection and refuses new ones, as a crashed or unreachable database
 *   would: the client learns at once.
 * - `stall()` goes silent instead, as a dead host, a dropped NAT entry or a frozen server would:
 *   open connections stay open but nothing crosses them any more, either way, and new ones are
 *   accepted and never answered. The client learns nothing; only its own timeouts end the wait.
 * - `restore()` lets new connections through again on the same port. Stalled connections stay
 *   silent until their client closes them, as half-open connections do: a client that keeps using
 *   one after a restore waits on it again.
 * It also counts what the server sends, to tell how much a client read from it.
 */
export class TcpProxy {
  /** Chosen on the first listen, kept across cuts so that clients reconnect to the same address. */
  port = 0;
  /** Bytes the target has sent through the proxy so far. */
  bytesFromTarget = 0;
  private server?: Server;
  private stalled = false;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.listen();
    return proxy;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stall(): void {
    this.stalled = true;
    for (const socket of this.sockets) silence(socket);
  }

  async restore(): Promise<void> {
    this.stalled = false;
    if (!this.server) await this.listen();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((client) => (this.stalled ? this.hold(client) : this.forward(client)));
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        const address = server.address();
        if (typeof address === 'object' && address) this.port = address.port;
        this.server = server;
        resolve();
      });
    });
  }

  private track(socket: Socket, onClose: () => void): void {
    this.sockets.add(socket);
    // Resets are what these tests provoke.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      onClose();
    });
  }

  private forward(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    // One side closing ends the other.
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    this.track(client, closeBoth);
    this.track(upstream, closeBoth);
    upstream.on('data', (chunk: Buffer) => {
      this.bytesFromTarget += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** A connection accepted while stalled: never forwarded, never answered. */
  private hold(client: Socket): void {
    this.track(client, () => undefined);
    silence(client);
  }
}

/** Stops forwarding what `socket` receives; it is still read (and dropped), so that its close is seen and the proxy can clean up. */
function silence(socket: Socket): void {
  socket.unpipe();
  socket.removeAllListeners('data');
  socket.resume();
}
