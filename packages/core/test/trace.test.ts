import { tracingChannel } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bucket } from '../src/bucket.js';
import { BytecodeCache } from '../src/cache.js';
import { loadTemplate, loadTemplateSync } from '../src/compile.js';
import { MemoryBytecodeCache } from '../src/memory.js';

/** A synchronous store whose entries the test can reach. */
class MapCache extends BytecodeCache {
  readonly entries = new Map<string, Uint8Array>();
  override loadBytecodeSync(bucket: Bucket) {
    const bytes = this.entries.get(bucket.key);
    if (bytes) bucket.bytecodeFromBytes(bytes);
  }
  override dumpBytecodeSync(bucket: Bucket) {
    this.entries.set(bucket.key, bucket.bytecodeToBytes());
  }
  async loadBytecode(bucket: Bucket) {
    this.loadBytecodeSync(bucket);
  }
  async dumpBytecode(bucket: Bucket) {
    this.dumpBytecodeSync(bucket);
  }
}

type Event = [channel: string, kind: string, context: Record<string, unknown>];

function listen() {
  const events: Event[] = [];
  const unsubscribers: (() => void)[] = [];
  for (const name of ['bcc:load', 'bcc:compile', 'bcc:store']) {
    const channel = tracingChannel(name);
    const handlers = Object.fromEntries(
      ['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((kind) => [
        kind,
        (context: object) => events.push([name, kind, { ...context }]),
      ]),
    );
    channel.subscribe(handlers as never);
    unsubscribers.push(() => channel.unsubscribe(handlers as never));
  }
  return {
    events,
    stop: () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    },
  };
}

const environment = {
  fingerprint: 'trace-test',
  engine: 'demo@1.0.0',
  compile: (source: string) => `(${JSON.stringify(source)})`,
};

let stop: (() => void) | undefined;
afterEach(() => stop?.());

describe('diagnostics_channel tracing', () => {
  it('publishes a miss, the compile and the store, then a hit, with what operators need', async () => {
    const listener = listen();
    stop = listener.stop;
    const cache = new MemoryBytecodeCache();
    const first = await loadTemplate(cache, environment, { name: 'page.html', source: 'hello' });
    await first.stored;
    const ends = () => listener.events.filter(([, kind]) => kind === 'asyncEnd');
    expect(ends().map(([channel, , c]) => [channel, c.outcome ?? c.stored ?? c.jsLength])).toEqual([
      ['bcc:load', 'miss'],
      ['bcc:compile', 9],
      ['bcc:store', true],
    ]);
    const store = ends()[2]![2];
    expect(store).toMatchObject({
      name: 'page.html',
      store: cache.storeName,
      key: first.bucket.key,
      async: true,
    });
    expect(store.bytes).toBe(first.bucket.bytecodeToBytes().length);
    expect(ends()[1]![2]).toMatchObject({ name: 'page.html', engine: 'demo@1.0.0' });
    listener.events.length = 0;
    await loadTemplate(cache, environment, { name: 'page.html', source: 'hello' });
    expect(ends().map(([channel, , c]) => [channel, c.outcome, c.key, c.bytes])).toEqual([
      ['bcc:load', 'hit', first.bucket.key, first.bucket.bytecodeToBytes().length],
    ]);
  });

  it('reports a rejected entry with its reason, and synchronous loads as start/end', () => {
    const listener = listen();
    stop = listener.stop;
    const cache = new MapCache();
    loadTemplateSync(cache, environment, { name: 'a', source: 'one' });
    const key = cache.getCacheKey('a', undefined, environment.fingerprint);
    const entry = Buffer.from(cache.entries.get(key)!);
    entry[entry.length - 1]! ^= 1;
    cache.entries.set(key, entry);
    listener.events.length = 0;
    loadTemplateSync(cache, environment, { name: 'a', source: 'one' });
    const load = listener.events.filter(([channel, kind]) => channel === 'bcc:load' && kind === 'end');
    expect(load.map(([, , c]) => [c.outcome, c.reason, c.async])).toEqual([['rejected', 'crc', false]]);
    expect(listener.events.map(([channel, kind]) => `${channel}:${kind}`)).toEqual([
      'bcc:load:start',
      'bcc:load:end',
      'bcc:compile:start',
      'bcc:compile:end',
      'bcc:store:start',
      'bcc:store:end',
    ]);
  });

  it('a compile error is published on error and still reaches the caller', async () => {
    const listener = listen();
    stop = listener.stop;
    const failing = {
      ...environment,
      compile: () => {
        throw new SyntaxError('bad template');
      },
    };
    await expect(
      loadTemplate(new MemoryBytecodeCache(), failing, { name: 'x', source: 'x' }),
    ).rejects.toThrow('bad template');
    expect(listener.events.some(([channel, kind]) => channel === 'bcc:compile' && kind === 'error')).toBe(
      true,
    );
  });
});
