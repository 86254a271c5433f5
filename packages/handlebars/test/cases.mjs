// Templates, helpers, partials and compile options that the tests render with plain Handlebars
// and through bcc, cold and warm. Shared by the in-process tests and the fresh-process child.

export const partials = {
  card: '<div class="card"><h2>{{title}}</h2>{{> @partial-block}}</div>',
  item: '<li{{#if active}} class="on"{{/if}}>{{name}}: {{price amount}}</li>',
};

export function setUp(hb) {
  hb.registerHelper('price', (amount) => `€${Number(amount).toFixed(2)}`);
  hb.registerHelper('shout', (text) => new hb.SafeString(`<b>${String(text).toUpperCase()}</b>`));
  hb.registerHelper('repeat', function (n, options) {
    let out = '';
    for (let i = 0; i < n; i++) out += options.fn({ ...this, i });
    return out;
  });
  hb.registerHelper('fail', () => {
    throw new Error('helper failed on purpose');
  });
  for (const [name, source] of Object.entries(partials)) hb.registerPartial(name, source);
}

export const context = {
  title: 'Orders <&>',
  user: { name: 'Ada', admin: true },
  items: [
    { name: 'Tea', amount: 3.5, active: true },
    { name: '<script>', amount: 12, active: false },
  ],
  html: '<i>x</i>',
};

/** [label, source, compile options]; every one must render (or fail) exactly as plain Handlebars. */
export const cases = [
  ['variables and escaping', 'Hi {{user.name}} {{html}} {{{html}}} {{title}}', {}],
  [
    'each, if, else, with',
    '<ul>{{#each items}}{{> item}}{{else}}none{{/each}}</ul>{{#with user}}{{name}}{{/with}}',
    {},
  ],
  ['block helper and partial block', '{{#> card}}{{#repeat 3}}[{{i}}]{{/repeat}}{{/card}}', {}],
  ['SafeString helper', '{{shout title}} {{shout user.name}}', {}],
  [
    '@index, @first, lookup',
    '{{#each items}}{{@index}}{{#if @first}}*{{/if}}{{lookup ../items @index}}{{/each}}',
    {},
  ],
  ['noEscape', '{{html}} {{title}}', { noEscape: true }],
  ['strict mode, present field', '{{user.name}}', { strict: true }],
  ['strict mode, missing field (a render error)', '{{user.missing.deep}}', { strict: true }],
  ['knownHelpersOnly with a known helper', '{{#each items}}{{name}}{{/each}}', { knownHelpersOnly: true }],
  ['knownHelpersOnly with an unknown helper (a compile error)', '{{price 3}}', { knownHelpersOnly: true }],
  ['compat (depth lookups)', '{{#each items}}{{title}}{{/each}}', { compat: true }],
  ['preventIndent', '<div>\n  {{> item name="x" amount=1}}\n</div>', { preventIndent: true }],
  ['a parse error', 'Hello {{#if}}', {}],
  ['an unclosed block (a parse error)', '{{#each items}}{{name}}', {}],
  ['a helper that throws (a render error)', 'before {{fail}} after', {}],
];
