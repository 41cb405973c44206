/**
 * A real redis-server (the Debian package) for the queue tests: on a free loopback port, with its
 * data in a temporary folder and the append-only file on, so a restart keeps the queue as a
 * production Redis with persistence would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** Why redis-server cannot run here, or undefined when it can. */
export function redisMissing(): string | undefined {
  const r = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `no ${REDIS_SERVER} found (apt-get install redis-server, or set REDIS_SERVER); .ci/run installs it`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** PING until PONG (or throw after `ms`). */
async function waitForPong(port: number, ms = 10000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => { resolve(d.toString().startsWith('+PONG')); s.destroy(); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}

export class TestRedis {
  private proc?: ChildProcess;
  private constructor(readonly port: number, readonly dir: string) {}

  get url(): string { return `redis://127.0.0.1:${this.port}`; }

  static async start(): Promise<TestRedis> {
    const r = new TestRedis(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-redis-')));
    await r.launch();
    return r;
  }

  private async launch(): Promise<void> {
    this.proc = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no', '--logfile', ''], { stdio: 'ignore' });
    await waitForPong(this.port);
  }

  /** Stop (SIGTERM: Redis flushes its append-only file) and wait for the process to end. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGTERM'); });
  }

  /** Down for `downMs`, then up again on the same port with the same data. */
  async restart(downMs: number): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
