/**
 * The worker processes of `egress proxy --workers N` (node:cluster). Every worker runs the same
 * command line and listens on the same addresses; the kernel hands each new connection to one
 * of them (SCHED_NONE: the listening sockets are shared, not passed round-robin through the
 * supervisor, which would cost the supervisor a message per connection).
 *
 * A worker that dies while serving is replaced. If they keep dying (RESTART_LIMIT deaths within
 * RESTART_WINDOW_MS) the pool gives up and the supervisor stops: a proxy that is down refuses
 * connections, which is closed, never open.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import {
  isWorkerMessage,
  WORKER_ENV,
  type MetricsJson,
  type SupervisorMessage,
  type WorkerMessage,
} from './worker-link.js';

const RESTART_LIMIT = 5;
const RESTART_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 500;
const STATUS_TIMEOUT_MS = 2_000;

export interface WorkerStatus {
  metrics: MetricsJson | null;
  auditHealthy: boolean;
}

/** Why the pool stopped on its own: a worker failed to start, or workers kept dying. */
export class WorkerPoolFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export class WorkerPool {
  private readonly workers = new Set<Worker>();
  private readonly deaths: number[] = [];
  private readonly pending = new Map<number, (status: WorkerStatus) => void>();
  private nextRequest = 1;
  private stopping = false;
  private failed: ((failure: WorkerPoolFailure) => void) | null = null;

  constructor(
    private readonly size: number,
    private readonly log: Logger,
  ) {}

  get count(): number {
    return this.workers.size;
  }

  /**
   * Forks every worker and resolves with the lines the first one printed once all listen.
   * Rejects (with the worker's exit code) if any exits before listening.
   */
  async start(): Promise<string[]> {
    // Frozen by the first fork: the kernel balances connections between the workers.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) });
    const started = Array.from({ length: this.size }, () => this.fork(true));
    const lines = await Promise.all(started);
    return lines[0] ?? [];
  }

  /** Settles when the pool gives up on its own (workers keep dying). */
  failures(): Promise<WorkerPoolFailure> {
    return new Promise((resolve) => (this.failed = resolve));
  }

  signal(signal: NodeJS.Signals): void {
    for (const worker of this.workers) worker.process.kill(signal);
  }

  /** SIGTERM to every worker (they drain); SIGKILL to any still running after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const exits = [...this.workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), graceMs);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          worker.process.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }

  /** Every worker's metrics and audit health; a worker that does not answer counts unhealthy. */
  async status(): Promise<WorkerStatus[]> {
    return Promise.all([...this.workers].map((worker) => this.askStatus(worker)));
  }

  private askStatus(worker: Worker): Promise<WorkerStatus> {
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve({ metrics: null, auditHealthy: false });
      }, STATUS_TIMEOUT_MS);
      this.pending.set(requestId, (status) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        resolve(status);
      });
      const question: SupervisorMessage = { type: 'egress:status?', requestId };
      worker.send(question);
    });
  }

  /**
   * Forks one worker; resolves with its printed lines once it listens. A replacement that
   * dies before listening counts as one more death (`initial` ones fail the start instead).
   */
  private fork(initial: boolean): Promise<string[]> {
    const worker = cluster.fork({ [WORKER_ENV]: '1' });
    this.workers.add(worker);
    return new Promise((resolve, reject) => {
      let listening = false;
      worker.on('message', (message: unknown) => {
        if (!isWorkerMessage(message)) return;
        this.onMessage(message);
        if (message.type === 'egress:listening') {
          listening = true;
          resolve(message.lines);
        }
      });
      worker.once('exit', (code: number | null, signal: string | null) => {
        this.workers.delete(worker);
        if (this.stopping) return;
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        if (!listening && initial) {
          reject(new WorkerPoolFailure(`a proxy worker failed to start (${how})`, code || 1));
          return;
        }
        this.replace(worker.id, how);
      });
    });
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type !== 'egress:status') return;
    this.pending.get(message.requestId)?.({
      metrics: message.metrics,
      auditHealthy: message.auditHealthy,
    });
  }

  private replace(id: number, how: string): void {
    const now = Date.now();
    this.deaths.push(now);
    while (this.deaths.length > 0 && this.deaths[0]! < now - RESTART_WINDOW_MS) this.deaths.shift();
    if (this.deaths.length >= RESTART_LIMIT) {
      this.log.error({ worker: id, how }, 'proxy workers keep dying; stopping');
      this.failed?.(
        new WorkerPoolFailure(
          `${RESTART_LIMIT} proxy workers died within ${RESTART_WINDOW_MS / 1000} s; stopping`,
          1,
        ),
      );
      return;
    }
    this.log.error({ worker: id, how }, 'a proxy worker died; starting another');
    setTimeout(() => {
      if (this.stopping) return;
      void this.fork(false);
    }, RESTART_DELAY_MS);
  }
}

/**
 * A worker's node flags: the supervisor's, plus a 32 MiB young-generation semi-space unless the
 * operator chose one. A proxy makes short-lived objects at a high rate (sockets, buffers,
 * decisions, events); with V8's default 16 MiB more of them survive into the old generation and
 * scavenges come twice as often. Measured in interleaved A/B runs (bench/proxy/ab.ts): about 9%
 * less CPU per CONNECT tunnel; forward requests within the noise.
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = ''): string[] {
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) =>
    /^--max[-_]semi[-_]space[-_]size\b/.test(flag),
  );
  return chosen ? [...execArgv] : [...execArgv, '--max-semi-space-size=32'];
}
