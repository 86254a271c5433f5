// The differential harness's cases: environment configurations × templates × APIs, drawn from a
// seeded generator, so CI runs a fixed sample and a longer run can draw new ones.

/** mulberry32: a small seeded PRNG; the same seed gives the same cases everywhere. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (next, list) => list[Math.floor(next() * list.length)];

const CUSTOM_TAGS = {
  blockStart: '<%',
  blockEnd: '%>',
  variableStart: '<$',
  variableEnd: '$>',
  commentStart: '<#',
  commentEnd: '#>',
};

/** One environment configuration. */
function config(next) {
  return {
    autoescape: pick(next, [true, false]),
    trimBlocks: pick(next, [true, false]),
    lstripBlocks: pick(next, [true, false]),
    throwOnUndefined: next() < 0.2,
    customTags: next() < 0.3,
    // none | a stateless extension | one whose output depends on its options
    extension: pick(next, ['none', 'stateless', 'stateful']),
    extensionText: pick(next, ['tenant A', 'tenant B']),
    // when the async filter `later` is registered: never, before bcc, after bcc, after getTemplate
    asyncFilter: pick(next, ['never', 'before-bcc', 'after-bcc', 'after-getTemplate']),
    sharedLoader: next() < 0.4,
    noCache: next() < 0.4,
  };
}

/** A template body for `cfg`, from a small grammar of Nunjucks' features. */
function template(next, cfg, depth = 0) {
  const [bs, be, vs, ve, cs, ce] = cfg.customTags
    ? ['<%', '%>', '<$', '$>', '<#', '#>']
    : ['{%', '%}', '{{', '}}', '{#', '#}'];
  const variable = () => pick(next, ['name', 'html', 'n', 'items', 'missing', 'user.name']);
  const filters = ['upper', 'escape', 'safe', 'length', 'title', 'default("d")', 'shout'];
  if (cfg.asyncFilter !== 'never') filters.push('later');
  const parts = [];
  const count = 1 + Math.floor(next() * 4);
  for (let i = 0; i < count; i++) {
    const kind = pick(next, [
      'text',
      'var',
      'var',
      'if',
      'for',
      'set',
      'macro',
      'include',
      'comment',
      'ext',
      'ws',
    ]);
    if (kind === 'text') parts.push(pick(next, ['Hello ', '<b>&</b> ', '\n  line\n', ' — é ', '{ } % ']));
    else if (kind === 'var') parts.push(`${vs} ${variable()} | ${pick(next, filters)} ${ve}`);
    else if (kind === 'if' && depth < 2)
      parts.push(
        `${bs} if ${variable()} ${be}${template(next, cfg, depth + 1)}${bs} else ${be}no${bs} endif ${be}`,
      );
    else if (kind === 'for' && depth < 2)
      parts.push(`${bs} for x in items ${be}[${vs} x ${ve}${vs} loop.index ${ve}]${bs} endfor ${be}`);
    else if (kind === 'set') parts.push(`${bs} set n = ${Math.floor(next() * 9)} ${be}${vs} n * 2 ${ve}`);
    else if (kind === 'macro')
      parts.push(`${bs} macro m(a) ${be}<${vs} a ${ve}>${bs} endmacro ${be}${vs} m(name) ${ve}`);
    else if (kind === 'include' && depth === 0)
      parts.push(`${bs} include "part.njk" ${be}`); // part.njk never includes itself
    else if (kind === 'comment') parts.push(`${cs} a comment ${ce}`);
    else if (kind === 'ext' && cfg.extension !== 'none') parts.push(`${bs} banner ${be}`);
    else if (kind === 'ws') parts.push(`  ${bs}- if true -${be}  trimmed  ${bs}- endif -${be}  `);
  }
  return parts.join('');
}

export const APIS = ['render-sync', 'render-callback', 'getTemplate-render', 'renderString', 'Template'];

/** The same case with the extension's option changed: what the next deploy of a tenant runs. */
export function variant(testCase) {
  const text = testCase.config.extensionText === 'tenant A' ? 'tenant B' : 'tenant A';
  return { ...testCase, config: { ...testCase.config, extensionText: text } };
}

/** `count` cases from `seed`. */
export function cases(seed, count) {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const cfg = config(next);
    // A page that uses what its configuration is about: the async filter, the extension's tag.
    const uses = `${cfg.asyncFilter !== 'never' ? (cfg.customTags ? '<$ name | later $>' : '{{ name | later }}') : ''}${cfg.extension !== 'none' ? (cfg.customTags ? '<% banner %>' : '{% banner %}') : ''}`;
    return {
      id: i,
      config: cfg,
      api: pick(next, APIS),
      page: template(next, cfg) + uses,
      part: template(next, cfg, 1),
      tags: cfg.customTags ? CUSTOM_TAGS : null,
    };
  });
}
