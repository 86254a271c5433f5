import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (the OS picks it; racy in theory, fine for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Sends `request` over TCP and resolves with the first reply that `done` accepts. */
export function ask(
  port: number,
  request: string | Uint8Array,
  done: (reply: string) => boolean,
  timeoutMs = 500,
  host = '127.0.0.1',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port}`));
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (done(reply)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply);
      }
    });
    socket.connect(port, host, () => socket.write(request));
  });
}

/** Polls `probe` until it resolves, or fails after `timeoutMs` with the server's output. */
export async function waitUntil(
  what: string,
  probe: () => Promise<unknown>,
  output: () => string,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `${what} did not answer within ${timeoutMs} ms: ${(error as Error).message}\n${output()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A server process we started and must stop. */
export class ServerProcess {
  #child: ChildProcess | null = null;
  #output = '';
  constructor(
    readonly name: string,
    readonly command: string,
    readonly args: readonly string[],
    readonly cwd: string,
  ) {}

  get output(): string {
    return this.#output.slice(-4000);
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  start(): void {
    const child = spawn(this.command, this.args, { cwd: this.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c) => (this.#output += c));
    child.stderr?.on('data', (c) => (this.#output += c));
    child.on('error', (error) => {
      this.#output += `\n${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `${this.command} is not installed (not on PATH). Install it (Debian: apt-get install -y redis-server memcached) or point the tests at a server with the BCC_TEST_* variables.` : error.message}`;
    });
    this.#child = child;
  }

  /** SIGKILL, as a crash would: no clean shutdown. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** A fresh temporary directory removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Handle of a running test server. */
export interface TestServer {
  /** Connection string: `redis://127.0.0.1:PORT`, `127.0.0.1:PORT`, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Kills the process (SIGKILL) and keeps its port, so `start()` brings the same address back. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it answers. */
  start(): Promise<void>;
  /** Kills it and removes its data. */
  stop(): Promise<void>;
}

/**
 * Starts `server`, waits until `probe` answers, and returns its handle. The three servers differ
 * only in their command line, their probe and their URL.
 */
export async function runServer(
  server: ServerProcess,
  dir: { remove(): void },
  port: number,
  url: string,
  probe: () => Promise<unknown>,
): Promise<TestServer> {
  const start = async () => {
    server.start();
    await waitUntil(`${server.name} on port ${port}`, probe, () => server.output);
  };
  await start();
  return {
    url,
    host: '127.0.0.1',
    port,
    kill: () => server.kill(),
    start,
    stop: async () => {
      await server.kill();
      dir.remove();
    },
  };
}
