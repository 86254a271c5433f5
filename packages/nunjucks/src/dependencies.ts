// Nunjucks compiles `{% extends/include/import/from "x" %}` with a literal name to
// `env.getTemplate("x", <eager>, <parent>, ...)`; names computed at run time are not literals.
const GET_TEMPLATE_LITERAL = /env\.getTemplate\(("(?:[^"\\\n]|\\.)*"), (?:true|false), /g;

/** The template names a compiled template loads by literal name. */
export function staticDependencies(js: string): string[] {
  const names = new Set<string>();
  for (const match of js.matchAll(GET_TEMPLATE_LITERAL)) {
    try {
      const name = JSON.parse(match[1]!) as unknown;
      if (typeof name === 'string') names.add(name);
    } catch {
      // Not a plain string literal; Nunjucks will load it when it runs.
    }
  }
  return [...names];
}
