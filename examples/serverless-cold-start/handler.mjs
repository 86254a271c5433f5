// A serverless function: everything at module level runs once per cold start (the "init"
// phase), `handler` once per invocation. The bcc cache lives outside the instance (a shared
// directory here; Redis, memcached or S3 in production, through BCC_CACHE), so a cold start
// loads compiled templates instead of compiling them.
import { createBytecodeCacheFromEnv } from '@bcc/core';
import { useBytecodeCache } from '@bcc/nunjucks';
import nunjucks from 'nunjucks';

const env = new nunjucks.Environment(
  new nunjucks.FileSystemLoader(new URL('./views/', import.meta.url).pathname),
);
const bcc =
  process.env.BCC_CACHE?.trim() === 'none'
    ? null
    : useBytecodeCache(env, await createBytecodeCacheFromEnv({ fallback: 'file:' }));

export async function handler(event) {
  const html = await new Promise((resolve, reject) => {
    env.render('invoice.njk', invoiceFor(event.invoice ?? 1), (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
  // A function instance may be frozen right after it returns: finish the cache writes first.
  await bcc?.flush();
  return { statusCode: 200, headers: { 'content-type': 'text/html' }, body: html, stats: bcc?.stats ?? null };
}

function invoiceFor(number) {
  return {
    company: {
      name: 'bcc GmbH',
      lines: ['Templatestraße 1', '10115 Berlin'],
      country: 'de',
      vat_id: 'DE123456789',
      iban: 'DE00 1234 5678 9000',
    },
    customer: { name: 'Ada Lovelace', lines: ['12 St James’s Square', 'London SW1Y 4JH'], country: 'gb' },
    invoice: {
      number: `inv-2026-${String(number).padStart(4, '0')}`,
      date: '2026-11-25',
      due: '2026-12-09',
      paid: false,
      currency: 'EUR',
      notes: ['Thank you for your order.', 'Prices in <EUR> & incl. shipping.'],
    },
    items: Array.from({ length: 12 }, (_, i) => ({
      description: `Item ${i + 1}: template ${['compilation', 'caching', 'rendering'][i % 3]}`,
      note: i % 4 === 0 ? 'express delivery' : null,
      quantity: 1 + (i % 4),
      unit: 1500 + i * 275,
      vat: i % 3 === 0 ? 7 : 19,
    })),
  };
}
