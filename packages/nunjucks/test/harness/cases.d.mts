export interface HarnessCase {
  id: number;
  config: Record<string, unknown>;
  api: string;
  page: string;
  part: string;
  tags: Record<string, string> | null;
}
export function cases(seed: number, count: number): HarnessCase[];
export function random(seed: number): () => number;
export const APIS: string[];
export function variant(testCase: HarnessCase): HarnessCase;
