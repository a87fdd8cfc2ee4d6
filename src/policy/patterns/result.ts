/** The result of parsing one piece of policy text: a value, or an error with a hint. */
export type Parsed<T> =
  { ok: true; value: T; warning?: string } | { ok: false; error: string; hint?: string };

export const ok = <T>(value: T, warning?: string): Parsed<T> =>
  warning ? { ok: true, value, warning } : { ok: true, value };

export const err = <T = never>(error: string, hint?: string): Parsed<T> =>
  hint ? { ok: false, error, hint } : { ok: false, error };
