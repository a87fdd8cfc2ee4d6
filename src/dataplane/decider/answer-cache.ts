/**
 * Decider answers cached per workspace per host (DESIGN.md 3.3), bounded in size and time so a
 * long-running proxy neither grows without limit nor keeps an answer the decider would change.
 * Only real answers are cached: failures (timeouts, errors) are asked again next time.
 */
import type { DeciderAnswer } from './answer.js';

export const DEFAULT_CACHE_TTL_MS = 5 * 60_000;
export const DEFAULT_CACHE_ENTRIES = 10_000;

export class AnswerCache {
  /** Map keeps insertion order: the first key is the least recently used. */
  private readonly entries = new Map<string, { answer: DeciderAnswer; expires: number }>();

  constructor(
    private readonly ttlMs = DEFAULT_CACHE_TTL_MS,
    private readonly maxEntries = DEFAULT_CACHE_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  static key(scope: string, workspace: string | null, host: string): string {
    return JSON.stringify([scope, workspace, host]);
  }

  get(key: string): DeciderAnswer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.answer;
  }

  set(key: string, answer: DeciderAnswer): void {
    this.entries.delete(key);
    this.entries.set(key, { answer, expires: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
