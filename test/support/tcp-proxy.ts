import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy to a real server (PostgreSQL in the outage tests), to be cut and restored
 * under a running process: `cut()` drops every open connection and refuses new ones, as a crashed
 * or unreachable database would; `restore()` accepts again on the same port. It also counts what
 * the server sends, to tell how much a client read from it.
 */
export class TcpProxy {
  /** Chosen on the first listen, kept across cuts so that clients reconnect to the same address. */
  port = 0;
  /** Bytes the target has sent through the proxy so far. */
  bytesFromTarget = 0;
  private server?: Server;
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

  async restore(): Promise<void> {
    if (!this.server) await this.listen();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((client) => this.forward(client));
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        const address = server.address();
        if (typeof address === 'object' && address) this.port = address.port;
        this.server = server;
        resolve();
      });
    });
  }

  private forward(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      // Resets are what these tests provoke: one side closing ends the other.
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (chunk: Buffer) => {
      this.bytesFromTarget += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
