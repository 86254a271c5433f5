// node index.mjs — run it twice: the first run compiles the template and caches it on disk, the
// second (a new process) loads the cached JavaScript and V8 code cache instead.
import { loadTemplate } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';

// Default: a private per-user directory, <os.tmpdir()>/_bcc-cache-<uid> (mode 0700, checked).
// BCC_CACHE_DIR lets the example's test use a fresh directory.
const cache = new FileSystemBytecodeCache(
  process.env.BCC_CACHE_DIR ? { directory: process.env.BCC_CACHE_DIR } : {},
);

// A tiny template engine: `{{ name }}` placeholders, compiled to a JavaScript function. The
// fingerprint names everything that changes the generated code, so entries never cross engines.
const environment = {
  fingerprint: 'tiny-engine@1 escape=html',
  compile(source) {
    const parts = source.split(/\{\{\s*(\w+)\s*\}\}/);
    const body = parts
      .map((part, i) => (i % 2 === 0 ? JSON.stringify(part) : `escape(ctx[${JSON.stringify(part)}])`))
      .join(' + ');
    return `(function () {
  const escape = (v) => String(v).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  return function render(ctx) { return ${body}; };
})()`;
  },
};

const source = '<p>Hello, {{ name }}! You have {{ count }} new messages.</p>';
const template = await loadTemplate(cache, environment, { name: 'greeting.html', source });
console.log(template.value({ name: 'Ada <admin>', count: 3 }));
// After the first render, store V8's code cache with the entry (V8 compiles lazily, so this
// one is much more useful than a cache taken right after compiling).
await template.persistCodeCache();

const hit = template.from !== 'compiled';
console.log(`${hit ? 'hit' : 'miss'}: loaded from ${template.from}; cache directory ${cache.directory}`);
