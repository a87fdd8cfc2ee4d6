/**
 * Where was a redirected datagram (or TCP connection) going? The UDP relay, or the catch-all
 * TCP entrance, asks here for a source port; the bridge reads the nft maps inside the sandbox
 * (rules/netns-rules.ts: source port → original destination) and answers over IPC. One lookup per
 * protocol. Lookups are batched per family: one nft read answers every source
 * port asked for before it started. A port asked for while a read is running waits for the
 * next one, because its map entry may have been written after that read began.
 *
 * No answer within TIMEOUT_MS (or a failed read) resolves null: the relay then drops the
 * datagram and records it (fail closed).
 */
import type { BridgeOriginRequest, BridgeOrigins, OriginEntry } from '../protocol.js';

const TIMEOUT_MS = 2000;

type Waiter = (origin: OriginEntry | null) => void;

interface Round {
  id: number;
  waiters: Map<number, Waiter[]>;
  timer: NodeJS.Timeout;
}

export class OriginLookup {
  private nextId = 1;
  /** Per family: the read in flight, and the ports waiting for the next one. */
  private readonly inFlight = new Map<4 | 6, Round>();
  private readonly queued = new Map<4 | 6, Map<number, Waiter[]>>();

  /** `ask` sends a request to the bridge; answers come back through `answer`. */
  constructor(
    private readonly ask: (request: BridgeOriginRequest) => void,
    private readonly proto: 'udp' | 'tcp' = 'udp',
  ) {}

  find(family: 4 | 6, sport: number): Promise<OriginEntry | null> {
    return new Promise((resolve) => {
      const queue = this.queued.get(family) ?? new Map<number, Waiter[]>();
      queue.set(sport, [...(queue.get(sport) ?? []), resolve]);
      this.queued.set(family, queue);
      if (!this.inFlight.has(family)) this.start(family);
    });
  }

  answer(reply: BridgeOrigins): void {
    if (reply.proto !== this.proto) return;
    const round = this.inFlight.get(reply.family);
    if (!round || round.id !== reply.id) return;
    const bySport = new Map(reply.entries.map((e) => [e.sport, e]));
    this.finish(reply.family, round, (sport) => bySport.get(sport) ?? null);
  }

  /** Resolves everything still waiting with null (the run is ending). */
  close(): void {
    for (const [family, round] of this.inFlight) this.finish(family, round, () => null, false);
    for (const queue of this.queued.values())
      for (const waiters of queue.values()) waiters.forEach((w) => w(null));
    this.queued.clear();
  }

  private start(family: 4 | 6): void {
    const waiters = this.queued.get(family);
    if (!waiters || waiters.size === 0) return;
    this.queued.delete(family);
    const round: Round = {
      id: this.nextId++,
      waiters,
      timer: setTimeout(() => this.finish(family, round, () => null), TIMEOUT_MS),
    };
    this.inFlight.set(family, round);
    this.ask({ type: 'origins', id: round.id, family, proto: this.proto });
  }

  private finish(
    family: 4 | 6,
    round: Round,
    result: (sport: number) => OriginEntry | null,
    next = true,
  ): void {
    clearTimeout(round.timer);
    this.inFlight.delete(family);
    for (const [sport, waiters] of round.waiters) {
      const origin = result(sport);
      for (const w of waiters) w(origin);
    }
    if (next) this.start(family);
  }
}
