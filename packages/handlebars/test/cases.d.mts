export const partials: Record<string, string>;
export function setUp(hb: unknown): void;
export const context: Record<string, unknown>;
export const cases: [label: string, source: string, options: Record<string, unknown>][];
