/**
 * Two things memjs 1.x does not do, which the adapter needs (its connection handling is in
 * memjs' `Server`, reached here through `client.servers`; a client of another shape is left
 * alone and keeps whatever behaviour it has):
 *
 * - **Recovery.** When a connection dies in the middle of a reply, memjs keeps the partial
 *   reply in `responseBuffer` and the dead requests' deadlines in `requestTimeouts`, and
 *   appends the next connection's replies behind them: every later reply is misparsed or
 *   times out, forever. {@link resetConnections} drops both and the socket, so the next call
 *   starts clean.
 * - **A bound on what a reply may hold.** memjs copies its whole buffer on every chunk, so a
 *   100 MB value costs seconds of CPU and blocks every other call on that connection, on every
 *   read. {@link guardReplySize} looks at the length each reply announces in its header and
 *   drops the connection as soon as one is larger than any entry can be.
 */

/** What the guard needs of a memjs `Server` (memjs 1.x). */
interface MemjsServer {
  _socket?: import('node:net').Socket;
  connected: boolean;
  responseBuffer: Buffer;
  /** Deadlines of pending requests, in memjs' clock (process.hrtime in milliseconds). */
  requestTimeouts: number[];
  responseHandler(chunk: Buffer): void;
  error(error: unknown): void;
}

/** memcached's binary protocol: a 24-byte header whose bytes 8–11 give the body length. */
const HEADER_BYTES = 24;
const BODY_LENGTH_OFFSET = 8;

const guarded = new WeakSet<object>();

function serversOf(client: unknown): MemjsServer[] {
  const servers = (client as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(servers)) return [];
  return servers.filter(
    (s): s is MemjsServer =>
      typeof s === 'object' &&
      s !== null &&
      Buffer.isBuffer((s as MemjsServer).responseBuffer) &&
      typeof (s as MemjsServer).responseHandler === 'function' &&
      typeof (s as MemjsServer).error === 'function' &&
      Array.isArray((s as MemjsServer).requestTimeouts),
  );
}

/** True when `client` is a memjs client whose connections the adapter can reset and bound. */
export function isGuardable(client: unknown): boolean {
  return serversOf(client).length > 0;
}

/** The message of the errors a reset gives the calls it fails. */
export const RESET_MESSAGE = 'connection reset by bcc';

/**
 * Drops the connections of a memjs client that are broken, with everything memjs kept of them
 * (partial reply, pending requests, their deadlines): their pending calls fail at once, the
 * next call reconnects. Broken: the socket is gone but a partial reply or pending requests
 * remain, or a request is past its deadline. Healthy servers of the client are left alone.
 * Returns how many connections were dropped.
 */
export function resetBrokenConnections(client: unknown, reason: string): number {
  const [seconds, nanos] = process.hrtime();
  const now = seconds * 1000 + Math.round(nanos / 1e6);
  let dropped = 0;
  for (const server of serversOf(client)) {
    const leftovers = server.responseBuffer.length > 0 || server.requestTimeouts.length > 0;
    const overdue = server.requestTimeouts.length > 0 && server.requestTimeouts[0]! <= now;
    if ((!server._socket && leftovers) || overdue) {
      drop(server, new Error(`${RESET_MESSAGE}: ${reason}`));
      dropped++;
    }
  }
  return dropped;
}

/**
 * Drops one server's connection for good. The old socket is silenced first: memjs' own
 * 'close' and 'error' handlers act on whatever socket the server holds *then*, so a late event
 * of the dead socket would otherwise orphan the next connection (its requests never written).
 */
function drop(server: MemjsServer, error: Error): void {
  const socket = server._socket;
  if (socket) {
    socket.removeAllListeners('close');
    socket.removeAllListeners('error');
    socket.removeAllListeners('data');
    socket.on('error', () => {});
  }
  server.connected = false;
  server.responseBuffer = Buffer.alloc(0);
  server.error(error);
}

/**
 * Makes every connection of a memjs client refuse a reply whose body is over `maxBody` bytes:
 * the connection is dropped (its pending calls fail and become misses) after at most one
 * chunk of it, instead of buffering the whole value. `onRefused` is told the announced size.
 */
export function guardReplySize(client: unknown, maxBody: number, onRefused: (bytes: number) => void): void {
  for (const server of serversOf(client)) {
    if (guarded.has(server)) continue;
    guarded.add(server);
    const handle = server.responseHandler;
    server.responseHandler = function guardedResponseHandler(this: MemjsServer, chunk: Buffer) {
      handle.call(this, chunk);
      // What is left is the start of a reply still arriving; its header says how long it is.
      const pending = this.responseBuffer;
      if (pending.length < HEADER_BYTES) return;
      const body = pending.readUInt32BE(BODY_LENGTH_OFFSET);
      if (body <= maxBody) return;
      onRefused(body);
      drop(this, new Error(`memcached announced a ${body}-byte reply, larger than any entry (${maxBody})`));
    };
  }
}
