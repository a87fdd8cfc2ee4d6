/**
 * The audit log: NDJSON on disk with group commit. `record()` resolves once the event's batch is
 * written and fdatasync'ed, so a caller can wait for a denial to be durable before it answers
 * the client (DESIGN.md section 5). Batching keeps that affordable under load: every event
 * that arrives while one flush runs goes out in the next single write + sync.
 *
 * If the disk fails (ENOSPC, EIO), the log turns unavailable: every pending and later record()
 * rejects, and the proxy fails closed rather than letting traffic through unrecorded.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { AuditEvent } from './event.js';

export class AuditUnavailableError extends Error {
  override name = 'AuditUnavailableError';
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class AuditLog {
  private handle: FileHandle | null = null;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;
  private writtenEvents = 0;
  private batches = 0;

  /**
   * @param sync false skips fdatasync (only for benchmarks of the sync cost).
   * @param onFailure called once when the log turns unavailable, to tell the operator.
   */
  constructor(
    readonly path: string,
    private readonly sync = true,
    private readonly onFailure?: (err: AuditUnavailableError) => void,
  ) {}

  async start(): Promise<void> {
    try {
      this.handle = await open(this.path, 'a', 0o640);
    } catch (err) {
      throw new AuditUnavailableError(
        `cannot open the audit log ${this.path}: ${(err as Error).message}`,
      );
    }
  }

  get stats(): { events: number; batches: number } {
    return { events: this.writtenEvents, batches: this.batches };
  }

  get healthy(): boolean {
    return this.failure === null && this.handle !== null;
  }

  record(event: AuditEvent): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.handle) return Promise.reject(new AuditUnavailableError('the audit log is not open'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line: JSON.stringify(event) + '\n', resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Let the current tick's events join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.handle!.write(batch.map((p) => p.line).join(''));
        if (this.sync) await this.handle!.datasync();
        this.writtenEvents += batch.length;
        this.batches++;
        for (const p of batch) p.resolve();
      } catch (err) {
        this.failure = new AuditUnavailableError(
          `the audit log ${this.path} cannot be written: ${(err as Error).message}`,
        );
        this.onFailure?.(this.failure);
        for (const p of [...batch, ...this.queue]) p.reject(this.failure);
        this.queue = [];
      }
    }
    this.flushing = null;
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = null;
  }
}
