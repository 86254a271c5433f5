import { createRequire } from 'node:module';
import { ask, freePort, runServer, ServerProcess, type TestServer, tempDir } from './process.js';

/** The bucket every test S3 server is started with. */
export const TEST_S3_BUCKET = 'bcc-test';

/** S3 credentials s3rver accepts. */
export const TEST_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * Starts s3rver in its own process (so tests can kill it) on a free loopback port, with an
 * empty bucket {@link TEST_S3_BUCKET}. `--openssl-legacy-provider`: without it, s3rver's
 * paginated listings fail with HTTP 500 on Node 20.
 */
export async function startS3rver(): Promise<TestServer> {
  const port = await freePort();
  const dir = tempDir('bcc-s3rver-');
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  const server = new ServerProcess(
    's3rver',
    process.execPath,
    [
      '--openssl-legacy-provider',
      bin,
      '-d',
      dir.path,
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '--silent',
      '--configure-bucket',
      TEST_S3_BUCKET,
    ],
    dir.path,
  );
  const bucketListed = () =>
    ask(port, `GET /${TEST_S3_BUCKET} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, (r) =>
      r.includes('\r\n\r\n'),
    ).then((r) => {
      if (!r.startsWith('HTTP/1.1 200') && !r.startsWith('HTTP/1.1 403')) throw new Error(r.split('\r\n')[0]);
    });
  return runServer(server, dir, port, `http://127.0.0.1:${port}`, bucketListed);
}
