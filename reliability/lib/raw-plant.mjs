/**
 * Writes bytes into a store the way an attacker with access to it would: with the store's own
 * protocol, not through bcc. Each function takes the key the adapter reads (its `pathOf`,
 * `keyFor` or `objectKey`).
 */
import { writeFileSync } from 'node:fs';
import { ask } from '@bcc/test-servers';

/** A file at the entry's path. */
export function plantFile(path, bytes) {
  writeFileSync(path, bytes);
}

/** `SET key value` in RESP, binary-safe. @param {string} url `redis://host:port` */
export async function plantRedis(url, key, bytes) {
  const { hostname, port } = new URL(url);
  const k = Buffer.from(key);
  const request = Buffer.concat([
    Buffer.from(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n`),
    k,
    Buffer.from(`\r\n$${bytes.length}\r\n`),
    Buffer.from(bytes),
    Buffer.from('\r\n'),
  ]);
  const reply = await ask(Number(port), request, (r) => r.includes('\r\n'), 5000, hostname);
  if (!reply.startsWith('+OK')) throw new Error(`redis SET: ${reply.trim()}`);
}

/** memcached text protocol `set`. @param {string} address `host:port` */
export async function plantMemcached(address, key, bytes) {
  const [host, port] = address.split(':');
  const request = Buffer.concat([
    Buffer.from(`set ${key} 0 0 ${bytes.length}\r\n`),
    Buffer.from(bytes),
    Buffer.from('\r\n'),
  ]);
  const reply = await ask(Number(port), request, (r) => r.includes('\r\n'), 5000, host);
  if (!reply.startsWith('STORED')) throw new Error(`memcached set: ${reply.trim()}`);
}

/** `PutObject` with the AWS SDK and the test server's credentials. */
export async function plantS3({ endpoint, bucket, credentials }, key, bytes) {
  const { PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(bytes) }));
  } finally {
    client.destroy();
  }
}
