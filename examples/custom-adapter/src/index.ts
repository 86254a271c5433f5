import { type Bucket, BytecodeCache, type BytecodeCacheOptions } from '@bcc/core';

/** Any async key-value client with these four calls (keyv stores, a database table, ...). */
export interface KvClient {
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
}

/** Options of {@link KvBytecodeCache}. */
export interface KvBytecodeCacheOptions extends BytecodeCacheOptions {
  client: KvClient;
  /** Scopes this cache's keys, so `clear()` touches nothing else. Default `'bcc/'`. */
  prefix?: string;
}

/** A bcc cache over any {@link KvClient}: the adapter `docs/writing-an-adapter.md` builds. */
export class KvBytecodeCache extends BytecodeCache {
  readonly #client: KvClient;
  readonly #prefix: string;

  constructor(options: KvBytecodeCacheOptions) {
    super(options);
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'bcc/';
  }

  override get backendName(): string {
    return 'kv';
  }

  async loadBytecode(bucket: Bucket): Promise<void> {
    const bytes = await this.#client.get(this.#prefix + bucket.key);
    // Bad bytes leave the bucket empty; the Bucket does every check.
    if (bytes) bucket.bytecodeFromBytes(bytes);
  }

  async dumpBytecode(bucket: Bucket): Promise<void> {
    await this.#client.set(this.#prefix + bucket.key, bucket.bytecodeToBytes());
  }

  override async clear(): Promise<void> {
    for (const key of await this.#client.keys(this.#prefix)) await this.#client.delete(key);
  }
}

/** A KvClient over a Map, shared by every cache given the same map. */
export function mapClient(map = new Map<string, Uint8Array>()): KvClient {
  return {
    get: async (key) => map.get(key),
    set: async (key, value) => {
      // Store a copy: the caller may reuse its buffer.
      map.set(key, Uint8Array.from(value));
    },
    delete: async (key) => {
      map.delete(key);
    },
    keys: async (prefix) => [...map.keys()].filter((key) => key.startsWith(prefix)),
  };
}
