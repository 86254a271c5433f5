/** Escapes the characters Redis' glob-style MATCH patterns treat specially (`*?[]\`). */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
