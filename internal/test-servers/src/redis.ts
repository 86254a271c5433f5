import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ask, freePort, runServer, ServerProcess, type TestServer, tempDir, waitUntil } from './process.js';

const run = promisify(execFile);

function redisArgs(port: number, extra: string[] = []): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    ...extra,
  ];
}

const ping = (port: number) => () =>
  ask(port, 'PING\r\n', (r) => r.includes('\r\n')).then((r) => {
    if (!r.startsWith('+PONG')) throw new Error(r.trim());
  });

/** Starts `redis-server` on a free loopback port. */
export async function startRedis(): Promise<TestServer> {
  const port = await freePort();
  const dir = tempDir('bcc-redis-');
  const server = new ServerProcess('redis-server', 'redis-server', redisArgs(port), dir.path);
  return runServer(server, dir, port, `redis://127.0.0.1:${port}`, ping(port));
}

/** A running Redis Cluster of three masters. */
export interface TestRedisCluster {
  readonly nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** Starts three `redis-server --cluster-enabled yes` nodes and joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = tempDir('bcc-redis-cluster-');
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = ports.map(
    (port) =>
      new ServerProcess(
        `redis-cluster-${port}`,
        'redis-server',
        redisArgs(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
        ]),
        dir.path,
      ),
  );
  const stop = async () => {
    await Promise.all(servers.map((s) => s.kill()));
    dir.remove();
  };
  try {
    for (const [i, server] of servers.entries()) {
      server.start();
      await waitUntil(`redis cluster node ${ports[i]}`, ping(ports[i]!), () => server.output);
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      {
        timeout: 30_000,
      },
    );
    for (const port of ports) {
      await waitUntil(
        `redis cluster state on ${port}`,
        () =>
          ask(port, 'CLUSTER INFO\r\n', (r) => r.includes('cluster_known_nodes')).then((r) => {
            if (!r.includes('cluster_state:ok')) throw new Error('cluster not ok yet');
          }),
        () => '',
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
}
