// What every benchmark child does once its environment is ready: render every page through the
// callback API and print one JSON line. Times are milliseconds since the process started.
import { createHash } from 'node:crypto';
import { context } from '../context.mjs';

export const config = JSON.parse(process.argv[2] ?? '{}');

export async function renderAndReport(mode, env, ready, finish = async () => null) {
  const digest = createHash('sha256');
  let bytes = 0;
  for (const page of config.pages) {
    const html = await new Promise((resolve, reject) => {
      env.render(page, context, (error, result) => (error ? reject(error) : resolve(result)));
    });
    bytes += html.length;
    digest.update(html);
  }
  const rendered = performance.now();
  const stats = await finish();
  process.stdout.write(
    `${JSON.stringify({ mode, ready, rendered, bytes, digest: digest.digest('hex'), stats })}\n`,
  );
}
