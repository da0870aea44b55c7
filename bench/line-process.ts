/** A child process spoken to in JSON lines: one request line in, one reply line out. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export class LineProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** The next line the child prints, parsed; throws with the child's last error output if it exits first. */
  async read<T>(): Promise<T> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`child exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
    return JSON.parse(next.value) as T;
  }

  async request<T>(message: object): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    return this.read<T>();
  }

  /**
   * Ends the child and waits until it has exited: a process of a few GB takes a while to tear down,
   * and the sections after this one time their own work.
   */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin.end();
    this.child.kill();
    await exited;
  }
}
