import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { NunjucksTemplateEnvironment, staticDependencies, toLatin1Source } from '../src/index.js';

describe('compiled code', () => {
  it('escapes characters beyond Latin-1 without changing what the code does', () => {
    const code = 'var s = "em — dash … and 🎉 and café"; var é = 1;';
    const escaped = toLatin1Source(code);
    expect(escaped).toMatch(/^[^\u0100-\uffff]*$/);
    expect(escaped).toContain('café'); // Latin-1 stays as it is
    expect(new Function(`${escaped}; return [s, é];`)()).toEqual(new Function(`${code}; return [s, é];`)());
  });

  it('keeps backslashes meaning what they meant', () => {
    for (const code of [
      'var s = "\\—";',
      'var s = "\\\\—";',
      'var s = "\\\\\\—";',
      'var r = /a\\—b/.test("a—b");',
    ]) {
      const escaped = toLatin1Source(code);
      expect(escaped).toMatch(/^[^\u0100-\uffff]*$/);
      expect(new Function(`${escaped}; return typeof s === 'string' ? s : r;`)()).toEqual(
        new Function(`${code}; return typeof s === 'string' ? s : r;`)(),
      );
    }
  });

  it('compiles templates with such characters to the same output as Nunjucks', () => {
    const env = new nunjucks.Environment([]);
    const source = '{% set ünï = "—" %}<p>{{ ünï }} … {{ name }} 🎉 \\— {{ "·" }}</p>{% raw %}—{% endraw %}';
    const js = new NunjucksTemplateEnvironment(env as never).compile(source, 't', 't.njk');
    expect(js).toMatch(/^[^\u0100-\uffff]*$/);
    const props = new Function(`return ${js}`)()();
    const template = new nunjucks.Template({ type: 'code', obj: props } as never, env, 't.njk');
    expect(template.render({ name: 'Ada' })).toBe(env.renderString(source, { name: 'Ada' }));
  });

  it('finds the templates a compiled template names literally', () => {
    const env = new nunjucks.Environment([]);
    const source =
      '{% extends "base.njk" %}{% import "m.njk" as m %}{% from "f.njk" import x %}{% block a %}{% include "i.njk" %}{% include name %}{% include "q\\"uote.njk" %}{% endblock %}';
    const js = new NunjucksTemplateEnvironment(env as never).compile(source, 't', 't.njk');
    expect(staticDependencies(js).sort()).toEqual(['base.njk', 'f.njk', 'i.njk', 'm.njk', 'q"uote.njk']);
  });
});
