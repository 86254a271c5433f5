import type { Socket } from 'node:net';

// Not `import … from 'node:net'`: a built-in's ES module facade costs start-up (see @bcc/core).
const { connect } = process.getBuiltinModule('node:net');

/** Where a {@link RespReader} connects, taken from a `redis://` URL. */
export interface RespTarget {
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
  db?: number | undefined;
}

interface Pending {
  resolve(value: Buffer | null): void;
  reject(error: Error): void;
  /** Replies to AUTH and SELECT: an error there fails the connection, not just the command. */
  setup: boolean;
}

const CRLF = Buffer.from('\r\n');

/**
 * The cache's read path to one Redis server: `GETRANGE` over RESP2 on a socket of its own,
 * without ioredis. Importing ioredis costs a fresh process 40–55 ms on Node 24 (60 modules),
 * which is more than a warm process spends loading and rendering 50 templates; a process whose
 * templates are all in the cache never writes, so it never needs ioredis at all.
 *
 * Deliberately small: one connection, commands pipelined in order, replies matched first in
 * first out. It understands the replies `GETRANGE`, `AUTH` and `SELECT` give (bulk strings,
 * `+OK`, errors) and nothing else; anything else is a protocol error that drops the connection.
 * A bulk reply longer than `maxBulk` is refused from its header, before any of it is buffered.
 * Any failure (refused, reset, timeout, a bad reply) rejects every command in flight and drops
 * the socket; the next command connects again. The socket does not keep the process alive
 * while no command is waiting.
 */
export class RespReader {
  readonly #target: RespTarget;
  readonly #maxBulk: number;
  #socket: Socket | null = null;
  readonly #pending: Pending[] = [];
  #head = 0;
  /** Received bytes not parsed yet. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes a reply in progress needs before parsing is worth trying again (a large value arrives in many chunks). */
  #needed = 0;

  constructor(target: RespTarget, options: { maxBulk: number }) {
    this.#target = target;
    this.#maxBulk = options.maxBulk;
  }

  /** Connects now, so the connection is ready by the first read (start-up overlaps it). */
  warmUp(): void {
    this.#connection();
  }

  /** `GETRANGE key start end`: the bytes, or an empty buffer for a missing key. */
  getrange(key: string, start: number, end: number): Promise<Buffer | null> {
    return this.#send(['GETRANGE', key, String(start), String(end)], false);
  }

  /**
   * Drops the connection: every command in flight is rejected with `error` (or "closed").
   * Used on timeouts, so a stalled server never collects commands and a late reply is never
   * matched to a later command.
   */
  reset(error: Error = new Error('connection closed by the cache')): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#chunks = [];
    this.#buffered = 0;
    this.#needed = 0;
    const pending = this.#pending.splice(this.#head);
    this.#pending.length = 0;
    this.#head = 0;
    socket?.destroy();
    for (const p of pending) p.reject(error);
  }

  #send(args: readonly string[], setup: boolean): Promise<Buffer | null> {
    const socket = this.#connection();
    return new Promise<Buffer | null>((resolve, reject) => {
      this.#pending.push({ resolve, reject, setup });
      socket.ref();
      socket.write(encode(args));
    });
  }

  #connection(): Socket {
    if (this.#socket) return this.#socket;
    const { host, port, username, password, db } = this.#target;
    const socket = connect({ host, port, noDelay: true });
    this.#socket = socket;
    socket.unref();
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      this.#parse();
    });
    const fail = (error: Error) => {
      if (this.#socket === socket) this.reset(error);
    };
    // Worded as the ioredis path words them; whoever reports adds the store's name (host, port).
    socket.on('error', (error) =>
      fail(new Error(`not connected to Redis (${error.message})`, { cause: error })),
    );
    socket.on('close', () => fail(new Error('the connection to Redis closed')));
    // Queued ahead of every command on this connection; their replies come first.
    if (password !== undefined) {
      const auth = username ? ['AUTH', username, password] : ['AUTH', password];
      this.#pending.push({ resolve: () => {}, reject: () => {}, setup: true });
      socket.write(encode(auth));
    }
    if (db !== undefined && db !== 0) {
      this.#pending.push({ resolve: () => {}, reject: () => {}, setup: true });
      socket.write(encode(['SELECT', String(db)]));
    }
    return socket;
  }

  /** Parses every complete reply buffered so far and settles its command. */
  #parse(): void {
    if (this.#buffered < this.#needed) return;
    this.#needed = 0;
    while (this.#buffered > 0) {
      const data = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
      this.#chunks = [data];
      const lineEnd = data.indexOf(CRLF);
      if (lineEnd === -1) {
        if (data.length > 1024) this.#protocolError('a reply line without an end');
        return;
      }
      const type = data[0];
      const line = data.toString('latin1', 1, lineEnd);
      let value: Buffer | null | Error;
      let used: number;
      if (type === 0x24 /* $ */) {
        const length = Number(line);
        if (!Number.isSafeInteger(length) || length < -1) {
          this.#protocolError(`a bulk length of ${line}`);
          return;
        }
        if (length > this.#maxBulk) {
          this.#protocolError(`a reply of ${length} bytes, more than the ${this.#maxBulk} asked for`);
          return;
        }
        if (length === -1) {
          value = null;
          used = lineEnd + 2;
        } else {
          const end = lineEnd + 2 + length;
          // Wait for the whole value (and its CRLF) without copying what has arrived so far again.
          if (data.length < end + 2) {
            this.#needed = end + 2;
            return;
          }
          // A view, not a copy: `data` is this reply's own chunk or concatenation (copying 1 MB of
          // entries again showed up as garbage-collector time in a fresh process).
          value = data.subarray(lineEnd + 2, end);
          used = end + 2;
        }
      } else if (type === 0x2b /* + */) {
        value = null;
        used = lineEnd + 2;
      } else if (type === 0x2d /* - */) {
        value = new Error(`redis replied: ${line}`);
        used = lineEnd + 2;
      } else {
        this.#protocolError(`a reply of type ${JSON.stringify(String.fromCharCode(type ?? 0))}`);
        return;
      }
      const rest = data.subarray(used);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      const pending = this.#pending[this.#head];
      if (!pending) {
        this.#protocolError('a reply to no command');
        return;
      }
      this.#pending[this.#head++] = undefined as unknown as Pending;
      if (this.#head === this.#pending.length) {
        this.#pending.length = 0;
        this.#head = 0;
        this.#socket?.unref();
      } else if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
        this.#pending.splice(0, this.#head);
        this.#head = 0;
      }
      if (value instanceof Error) {
        if (pending.setup) {
          // A wrong password or database: every command behind it would fail the same way.
          this.reset(new Error(`redis ${this.#target.host}:${this.#target.port}: ${value.message}`));
          return;
        }
        pending.reject(value);
      } else {
        pending.resolve(value);
      }
    }
  }

  #protocolError(what: string): void {
    this.reset(
      new Error(
        `redis ${this.#target.host}:${this.#target.port}: unexpected ${what}; the connection was dropped`,
      ),
    );
  }
}

/** A command as a RESP array of bulk strings. */
function encode(args: readonly string[]): Buffer {
  let head = `*${args.length}\r\n`;
  const parts: Buffer[] = [];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    head += `$${bytes.length}\r\n`;
    parts.push(Buffer.from(head, 'latin1'), bytes, CRLF);
    head = '';
  }
  return Buffer.concat(parts);
}

/**
 * The target of a `redis://` URL the reader can serve, or `null` when only ioredis can (TLS, a
 * socket path, anything but a host, port, credentials and a database number).
 */
export function respTarget(url: string | undefined): RespTarget | null {
  if (url === undefined) return { host: '127.0.0.1', port: 6379 };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'redis:' || parsed.search !== '' || parsed.hash !== '') return null;
  const db = parsed.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(db)) return null;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return {
    host,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db === '' ? undefined : Number(db),
  };
}
