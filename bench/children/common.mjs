// What every benchmark child does once its environment is ready: render every page through the
// callback API and print one JSON line. Times are milliseconds since the process started.
import { context } from '../context.mjs';

export const config = JSON.parse(process.argv[2] ?? '{}');

/**
 * Collects the rendered pages (their size and, in the runs that check output, a digest) and
 * prints the one JSON line every child prints, Nunjucks' and Handlebars'. Timed runs import no
 * node:crypto for the digest: that import (~5 ms on Node 24) would hide what a mode's own
 * imports cost, since bcc no longer needs it.
 */
export function pageReport() {
  const digest = config.check ? process.getBuiltinModule('node:crypto').createHash('sha256') : null;
  let bytes = 0;
  return {
    add(html) {
      bytes += html.length;
      digest?.update(html);
    },
    async print(mode, ready, finish) {
      const rendered = performance.now();
      const stats = await finish();
      process.stdout.write(
        `${JSON.stringify({ mode, ready, rendered, bytes, digest: digest?.digest('hex') ?? null, stats })}\n`,
      );
    },
  };
}

export async function renderAndReport(mode, env, ready, finish = async () => null) {
  const report = pageReport();
  for (const page of config.pages) {
    report.add(
      await new Promise((resolve, reject) => {
        env.render(page, context, (error, result) => (error ? reject(error) : resolve(result)));
      }),
    );
  }
  await report.print(mode, ready, finish);
}
