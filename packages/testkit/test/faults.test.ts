// The fault suite run against an in-process stand-in for a network store, and against broken
// variants of it: the suite must pass for the first and fail for each of the others. Real
// servers are the adapters' business (packages/redis, memcached, s3 run this suite against theirs).
import { type Bucket, BytecodeCache, type BytecodeCacheOptions } from '@bcc/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultTarget, runFaultSuite, type TestApi } from '../src/index.js';

/** A "server" that loses its entries when killed, as redis-server or memcached without persistence do. */
class MapServer {
  up = true;
  entries = new Map<string, Uint8Array>();
  async kill() {
    this.up = false;
    this.entries.clear();
  }
  async start() {
    this.up = true;
  }
}

/** A cache on a MapServer, each call taking a turn of the event loop, as a network round trip does. */
class RemoteMapCache extends BytecodeCache {
  constructor(
    readonly server: MapServer,
    readonly prefix: string,
    options?: BytecodeCacheOptions,
  ) {
    super(options);
  }
  override get backendName() {
    return 'remote-map';
  }
  protected async roundTrip(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    if (!this.server.up)
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  }
  async loadBytecode(bucket: Bucket) {
    await this.roundTrip();
    const bytes = this.server.entries.get(this.prefix + bucket.key);
    if (bytes) bucket.bytecodeFromBytes(bytes);
  }
  async dumpBytecode(bucket: Bucket) {
    await this.roundTrip();
    this.server.entries.set(this.prefix + bucket.key, bucket.bytecodeToBytes());
  }
  override async clear() {
    try {
      await this.roundTrip();
      for (const key of this.server.entries.keys()) {
        if (key.startsWith(this.prefix)) this.server.entries.delete(key);
      }
    } catch (error) {
      // clear() is the adapter's own method: the base class catches nothing for it.
      this.handleError(error, { operation: 'clear' });
    }
  }
}

const server = new MapServer();
runFaultSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'remote map',
    server,
    create: ({ namespace, options }) => new RemoteMapCache(server, `${namespace}/`, options),
  },
);

/** Registers the suite against `target` with a runner that only collects the tests. */
function collect(target: FaultTarget) {
  const tests: { name: string; body: () => Promise<void> | void }[] = [];
  const api: TestApi = {
    describe: (_, body) => body(),
    it: (name, body) => tests.push({ name, body }),
    expect,
  };
  runFaultSuite(api, { hangTimeout: 200, resumeTimeout: 300, ...target });
  expect(tests).toHaveLength(4);
  return tests;
}

/** Runs every collected test and returns the names of those that failed. */
async function failing(target: FaultTarget): Promise<string[]> {
  const failed: string[] = [];
  for (const test of collect(target)) {
    await Promise.resolve()
      .then(test.body)
      .catch(() => failed.push(test.name));
  }
  return failed;
}

describe('the fault suite itself', () => {
  const all = collect({ name: 'x', server, create: () => new RemoteMapCache(server, 'x/') }).map(
    (t) => t.name,
  );

  it('fails every test when kill() leaves the server running', async () => {
    const alive = new MapServer();
    const target: FaultTarget = {
      name: 'never killed',
      server: { kill: async () => {}, start: () => alive.start() },
      create: ({ namespace, options }) => new RemoteMapCache(alive, `${namespace}/`, options),
    };
    expect(await failing(target)).toEqual(all);
  });

  it('fails every test against an adapter that turns backend errors into silent misses', async () => {
    const down = new MapServer();
    class Swallowing extends RemoteMapCache {
      protected override async roundTrip() {
        await super.roundTrip().catch(() => {});
      }
    }
    const target: FaultTarget = {
      name: 'swallowing',
      server: down,
      create: ({ namespace, options }) => new Swallowing(down, `${namespace}/`, options),
    };
    expect(await failing(target)).toEqual(all);
  });

  it('fails every test against an adapter whose calls hang while the server is down', async () => {
    const down = new MapServer();
    class Hanging extends RemoteMapCache {
      protected override async roundTrip() {
        if (!this.server.up) await new Promise(() => {});
      }
    }
    const target: FaultTarget = {
      name: 'hanging',
      server: down,
      create: ({ namespace, options }) => new Hanging(down, `${namespace}/`, options),
    };
    expect(await failing(target)).toEqual(all);
  });

  it('fails the resume tests against an adapter that never reconnects', async () => {
    const down = new MapServer();
    class Stuck extends RemoteMapCache {
      broken = false;
      protected override async roundTrip() {
        if (!this.server.up) this.broken = true;
        if (this.broken) throw new Error('connection closed');
        await super.roundTrip();
      }
    }
    const target: FaultTarget = {
      name: 'stuck',
      server: down,
      create: ({ namespace, options }) => new Stuck(down, `${namespace}/`, options),
    };
    expect(await failing(target)).toEqual([all[1], all[2], all[3]]);
  });

  it('fails the restart test when a store said to resume at once needs a retry', async () => {
    const down = new MapServer();
    class Slow extends RemoteMapCache {
      failuresAfterStart = 0;
      protected override async roundTrip() {
        if (!this.server.up) this.failuresAfterStart = 1;
        else if (this.failuresAfterStart > 0) {
          this.failuresAfterStart--;
          throw new Error('reconnecting');
        }
        await super.roundTrip();
      }
    }
    const target: FaultTarget = {
      name: 'slow',
      server: down,
      create: ({ namespace, options }) => new Slow(down, `${namespace}/`, options),
      features: { resumesAtOnce: true },
    };
    expect(await failing(target)).toEqual([all[1]]);
  });

  it('fails the restart test when a store said to be durable loses its entries', async () => {
    const forgetful = new MapServer();
    const target: FaultTarget = {
      name: 'forgetful',
      server: forgetful,
      create: ({ namespace, options }) => new RemoteMapCache(forgetful, `${namespace}/`, options),
      features: { durable: true },
    };
    expect(await failing(target)).toEqual([all[1]]);
  });
});
