import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBytecodeCache } from '@bcc/core';
import { useBytecodeCache } from '@bcc/nunjucks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import nunjucks from 'nunjucks';
import { Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bccMetrics, instrumentBcc } from '../src/index.js';

const views = mkdtempSync(join(tmpdir(), 'bcc-observability-'));
writeFileSync(join(views, 'page.html'), '{% extends "base.html" %}{% block b %}Hi {{ name }}{% endblock %}');
writeFileSync(join(views, 'base.html'), '<p>{% block b %}{% endblock %}</p>');
afterAll(() => rmSync(views, { recursive: true, force: true }));

/** Renders the page in a new environment through `cache`, as a new process would. */
async function renderPage(cache: MemoryBytecodeCache) {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(views));
  const handle = useBytecodeCache(env, cache);
  const html = env.render('page.html', { name: 'Ada' });
  await handle.flush();
  handle.dispose();
  return html;
}

let stop: (() => void) | undefined;
afterEach(() => stop?.());

describe('OpenTelemetry from bcc tracing channels', () => {
  it('a cold render makes load (miss), compile and store spans per template; a warm one load (hit) spans; metrics count them', async () => {
    const spans = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer(
      'bcc',
    );
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    stop = instrumentBcc({ tracer, meter: meterProvider.getMeter('bcc') });
    const cache = new MemoryBytecodeCache();
    expect(await renderPage(cache)).toBe('<p>Hi Ada</p>');
    const cold = spans
      .getFinishedSpans()
      .map((span) => [span.name, span.attributes['bcc.template'], span.attributes['bcc.outcome']]);
    // @bcc/nunjucks names templates by the file the loader found.
    for (const name of ['page.html', 'base.html'].map((file) => join(views, file))) {
      expect(cold).toContainEqual(['bcc.load', name, 'miss']);
      expect(cold).toContainEqual(['bcc.compile', name, undefined]);
      expect(cold).toContainEqual(['bcc.store', name, undefined]);
    }
    spans.reset();
    expect(await renderPage(cache)).toBe('<p>Hi Ada</p>');
    const warm = spans.getFinishedSpans();
    expect(warm.map((span) => [span.name, span.attributes['bcc.outcome']])).toEqual([
      ['bcc.load', 'hit'],
      ['bcc.load', 'hit'],
    ]);
    expect(warm[0]!.attributes['bcc.store']).toBe('memory');
    expect(warm[0]!.attributes['bcc.bytes']).toBeGreaterThan(0);
    await reader.forceFlush();
    const exported = exporter.getMetrics().flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics));
    const operations = exported.find((metric) => metric.descriptor.name === 'bcc.operations')!;
    const count = (operation: string, outcome: string) =>
      operations.dataPoints.find(
        (p) => p.attributes['bcc.operation'] === operation && p.attributes['bcc.outcome'] === outcome,
      )?.value;
    expect(count('load', 'miss')).toBe(2);
    expect(count('load', 'hit')).toBe(2);
    expect(count('compile', 'compiled')).toBe(2);
    await meterProvider.shutdown();
  });
});

describe('Prometheus metrics from bcc tracing channels', () => {
  it('counts loads by outcome and store, rejections by rule, compiles and stored bytes', async () => {
    const registry = new Registry();
    stop = bccMetrics(registry);
    const cache = new MemoryBytecodeCache();
    await renderPage(cache);
    await renderPage(cache);
    const text = await registry.metrics();
    expect(text).toContain('bcc_loads_total{outcome="miss",store="memory"} 2');
    expect(text).toContain('bcc_loads_total{outcome="hit",store="memory"} 2');
    expect(text).toContain('bcc_compiles_total 2');
    expect(text).toMatch(/bcc_stored_bytes_total\{store="memory"\} [1-9]\d+/);
    expect(text).toMatch(/bcc_operation_duration_seconds_count\{operation="load"\} 4/);
  });

  it('nothing is published once unsubscribed', async () => {
    const registry = new Registry();
    bccMetrics(registry)();
    await renderPage(new MemoryBytecodeCache());
    expect(await registry.metrics()).not.toContain('bcc_loads_total{');
  });
});
