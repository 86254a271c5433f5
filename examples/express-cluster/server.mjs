// Serves the app from several node:cluster workers sharing one port.
//   PORT (default 3000), WORKERS (default 3), BCC_CACHE (see app.mjs)
// The primary prints one JSON line `{"ready":true,...}` once every worker listens.
import cluster from 'node:cluster';

const port = Number(process.env.PORT ?? 3000);
const workers = Number(process.env.WORKERS ?? 3);

if (cluster.isPrimary) {
  // Round-robin hands sequential connections to the workers in turn (the default except on Windows).
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork({ WORKER_INDEX: String(i + 1) });
  cluster.on('message', (_worker, message) => {
    if (message === 'listening' && ++listening === workers) {
      console.log(JSON.stringify({ ready: true, port, workers, cache: process.env.BCC_CACHE ?? 'file:' }));
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!shuttingDown) {
      console.error(`worker ${worker.id} exited (${signal ?? code})`);
      process.exitCode = 1;
    }
  });
  let shuttingDown = false;
  const stop = () => {
    shuttingDown = true;
    for (const worker of Object.values(cluster.workers)) worker.kill();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { createApp } = await import('./app.mjs');
  const { app } = await createApp({ worker: Number(process.env.WORKER_INDEX) });
  app.listen(port, '127.0.0.1', () => process.send('listening'));
}
