import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * A private redis-server for the tests that kill and restart Redis (never the shared one). Like
 * CI's, it keeps nothing on disk, so a restart comes back empty: what was queued is lost.
 */
export class RedisServer {
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  /** Why these tests cannot run here, or null when redis-server is on PATH. */
  static missing(): string | null {
    const probe = spawnSync('redis-server', ['--version']);
    return probe.error ? `redis-server is not on PATH (${probe.error.message})` : null;
  }

  static async start(port: number): Promise<RedisServer> {
    const server = new RedisServer(port);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
    });
  }

  /** SIGKILL: no shutdown save, no goodbye to clients, as a crash would be. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
