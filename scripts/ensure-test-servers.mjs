#!/usr/bin/env node
// Run before the tests: the adapter tests start real redis-server, memcached and s3rver
// processes. s3rver comes from npm; redis-server and memcached come from the system. On a fresh
// Debian/Ubuntu machine where we are root (CI, containers) this installs them with apt-get;
// elsewhere it says what to install. BCC_TEST_REDIS_URL / BCC_TEST_MEMCACHED point the tests at
// servers of your own instead, and then nothing is needed here.
import { execFileSync, spawnSync } from 'node:child_process';

const needed = [];
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
if (!process.env.BCC_TEST_REDIS_URL && !(has('redis-server') && has('redis-cli')))
  needed.push('redis-server');
if (!process.env.BCC_TEST_MEMCACHED && !has('memcached')) needed.push('memcached');

if (needed.length > 0) {
  const isRoot = process.getuid?.() === 0;
  if (process.platform === 'linux' && isRoot && has('apt-get')) {
    console.log(`bcc tests: installing ${needed.join(', ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...needed], { stdio: 'inherit', env });
  } else {
    console.error(
      `bcc tests need ${needed.join(' and ')} on PATH (the tests start them on loopback ports).\n` +
        '  Debian/Ubuntu: sudo apt-get install -y redis-server memcached\n' +
        '  macOS:         brew install redis memcached\n' +
        '  or point the tests at running servers: BCC_TEST_REDIS_URL=redis://127.0.0.1:6379 BCC_TEST_MEMCACHED=127.0.0.1:11211',
    );
    process.exit(1);
  }
}
