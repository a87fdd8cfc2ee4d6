/**
 * The audit log: NDJSON on disk with group commit (DESIGN.md section 5). Every event that
 * arrives while one batch is being written and fdatasync'ed goes out in the next single write
 * and sync, so the cost of durability is shared by all events of a busy moment.
 *
 * Two ways in:
 * - `record(event)` resolves once the event's batch is on disk: a denial waits for it before
 *   the client gets its 403.
 * - `append(event)` queues the event for the next batch and returns at once: for the events
 *   nobody waits on (opened, allowed, closed). They are written and synced exactly like the
 *   others; only no promise is made per event. On a busy proxy those promises (and their
 *   continuations) cost more than serialising and writing the event did.
 *
 * If the disk fails (ENOSPC, EIO), the log turns unavailable: every pending and later record()
 * rejects, append() returns false, and the proxy fails closed rather than letting traffic
 * through unrecorded.
 */
import { close as closeFd, fdatasync, open, write } from 'node:fs';
import type { AuditEvent } from '../../protocol/audit-event.js';
import { EgressError } from '../../protocol/errors.js';

export class AuditUnavailableError extends EgressError<'audit_unavailable'> {
  override name = 'AuditUnavailableError';

  constructor(message: string, options?: ErrorOptions) {
    super('audit_unavailable', message, options);
  }
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class AuditLog {
  private fd: number | null = null;
  /** Serialised events of the next batch, each ending in a newline. */
  private lines: string[] = [];
  /** record() callers whose events are in `lines`. */
  private waiters: Waiter[] = [];
  private flushing = false;
  private whenIdle: (() => void)[] = [];
  private failure: AuditUnavailableError | null = null;
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

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      open(this.path, 'a', 0o640, (err, fd) => {
        if (err)
          reject(
            new AuditUnavailableError(`cannot open the audit log ${this.path}: ${err.message}`),
          );
        else {
          this.fd = fd;
          resolve();
        }
      });
    });
  }

  get stats(): { events: number; batches: number } {
    return { events: this.writtenEvents, batches: this.batches };
  }

  get healthy(): boolean {
    return this.failure === null && this.fd !== null;
  }

  /** Queues an event for the next batch; false if the log cannot take it (closed or failed). */
  append(event: AuditEvent): boolean {
    if (this.failure || this.fd === null) return false;
    this.lines.push(JSON.stringify(event) + '\n');
    this.scheduleFlush();
    return true;
  }

  /** Queues an event and resolves once it is on disk. Rejects with AuditUnavailableError. */
  record(event: AuditEvent): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.fd === null)
      return Promise.reject(new AuditUnavailableError('the audit log is not open'));
    return new Promise<void>((resolve, reject) => {
      this.lines.push(JSON.stringify(event) + '\n');
      this.waiters.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    // Let the current tick's events join the first batch.
    setImmediate(this.flushBatch);
  }

  /** Writes and syncs what is queued, then goes on while more arrived meanwhile. */
  private readonly flushBatch = (): void => {
    if (this.lines.length === 0 || this.fd === null) {
      this.flushing = false;
      for (const done of this.whenIdle.splice(0)) done();
      return;
    }
    const count = this.lines.length;
    const waiters = this.waiters;
    const data = Buffer.from(this.lines.join(''), 'utf8');
    this.lines = [];
    this.waiters = [];
    this.writeAll(this.fd, data, 0, (err) => {
      if (err) return this.fail(err, waiters);
      this.writtenEvents += count;
      this.batches++;
      for (const w of waiters) w.resolve();
      this.flushBatch();
    });
  };

  /** write(2) may take part of a buffer (a nearly full disk): go on from where it stopped. */
  private writeAll(fd: number, data: Buffer, from: number, done: (err: Error | null) => void) {
    write(fd, data, from, data.length - from, null, (err, written) => {
      if (err) return done(err);
      if (from + written < data.length) return this.writeAll(fd, data, from + written, done);
      if (!this.sync) return done(null);
      fdatasync(fd, done);
    });
  }

  private fail(err: Error, batch: Waiter[]): void {
    this.failure = new AuditUnavailableError(
      `the audit log ${this.path} cannot be written: ${err.message}`,
    );
    this.onFailure?.(this.failure);
    for (const w of [...batch, ...this.waiters]) w.reject(this.failure);
    this.waiters = [];
    this.lines = [];
    this.flushing = false;
    for (const done of this.whenIdle.splice(0)) done();
  }

  /** Writes what is queued, then closes the file. */
  async close(): Promise<void> {
    if (this.flushing) await new Promise<void>((resolve) => this.whenIdle.push(resolve));
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await new Promise<void>((resolve) => closeFd(fd, () => resolve()));
  }
}
