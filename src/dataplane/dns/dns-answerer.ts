/**
 * One DNS question in, one answer out (DESIGN.md 3.5), for both UDP and TCP:
 *
 *   decode (malformed → dropped, counted) → identify the client's policy → may the name be
 *   allowed on any port? (no → REFUSED in restrict/inspect; monitor forwards and marks
 *   wouldDeny) → `--resolve` pin (answered here) → cache → upstream → cache the answer →
 *   one `dns.query` event → encode (too big for UDP → TC, ask again over TCP)
 *
 * A refusal's event is durable before REFUSED is sent, as a 403's is.
 */
import dnsPacket, { type Answer, type DecodedPacket, type Question } from 'dns-packet';
import type { Logger } from 'pino';
import { questionMayBeAllowed, type Decision } from '../../policy/index.js';
import { explain } from '../../policy/engine/explain.js';
import type { ClientContext } from '../../protocol/audit-event.js';
import type { EventBus } from '../events/event-bus.js';
import type { PolicyProvider } from '../proxy/client-identity.js';
import { noPolicyDecision } from '../../policy/engine/refusals.js';
import type { DnsCache } from './dns-cache.js';
import { ForwardError, type DnsForwarder } from './dns-forwarder.js';
import {
  RCODE,
  buildResponse,
  canonicalName,
  ednsOf,
  opcodeOf,
  questionKey,
  rcodeOf,
  summariseAnswers,
  truncatedResponse,
  udpLimitOf,
  type ResponseParts,
} from './dns-message.js';

export type DnsTransport = 'udp' | 'tcp';

export interface DnsAnswererOptions {
  policies: PolicyProvider;
  forwarder: DnsForwarder;
  cache?: DnsCache | null;
  /** `--resolve NAME=IP` pins, answered without asking upstream. */
  pins?: ReadonlyMap<string, readonly string[]>;
  /** TTL of pinned answers, seconds. */
  pinTtl?: number;
  bus: EventBus;
  log: Logger;
  /**
   * Told every answer given to a name the policy let through (pinned, cached or forwarded),
   * with the name as asked: the sandbox's UDP relay decides flows by these names.
   */
  onAnswered?: (name: string, answers: readonly Answer[]) => void;
}

export interface DnsStats {
  queries: number;
  answered: number;
  refused: number;
  forwarded: number;
  cacheHits: number;
  pinned: number;
  malformed: number;
  upstreamFailures: number;
}

/** How the answer was produced, for the event and the stats. */
type Source = 'refused' | 'pinned' | 'cache' | 'upstream' | 'failed' | 'rejected';

interface Outcome {
  parts: ResponseParts;
  source: Source;
  upstream?: string;
  upstreamTransport?: DnsTransport;
  reason?: string;
}

const DNS_PORT = 53;

export class DnsAnswerer {
  readonly stats: DnsStats = {
    queries: 0,
    answered: 0,
    refused: 0,
    forwarded: 0,
    cacheHits: 0,
    pinned: 0,
    malformed: 0,
    upstreamFailures: 0,
  };

  constructor(private readonly options: DnsAnswererOptions) {}

  /** The answer to send, or null to send nothing (malformed input: no reflection, no crash). */
  async answer(
    message: Buffer,
    address: string | null,
    transport: DnsTransport,
  ): Promise<Buffer | null> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      this.stats.malformed++;
      return null;
    }
    // Responses sent to us, and headers that lie about their sections, are not questions.
    if (query.type !== 'query' || !Array.isArray(query.questions)) {
      this.stats.malformed++;
      return null;
    }
    this.stats.queries++;
    const started = performance.now();
    const question = query.questions[0];
    if (opcodeOf(query) !== 0 || query.questions.length !== 1 || !question) {
      const notimp = opcodeOf(query) !== 0;
      this.unsupported(query, address, transport, notimp ? 'dns_notimp' : 'dns_formerr');
      return this.encode(query, { rcode: notimp ? RCODE.NOTIMP : RCODE.FORMERR }, transport);
    }

    const identified = this.options.policies.identify(undefined, address);
    const client: ClientContext = identified.client;
    const name = canonicalName(question.name);
    let outcome: Outcome;
    let decision: Decision;
    const compiled = identified.ok ? identified.compiled : null;
    if (!compiled) {
      decision = noPolicyDecision({ host: name, port: DNS_PORT, transport });
      outcome = { parts: { rcode: RCODE.REFUSED }, source: 'refused' };
    } else {
      const verdict = questionMayBeAllowed(compiled, name);
      decision = verdict.mayBeAllowed
        ? // Resolving is allowed; the connection itself is decided (or the decider asked) later.
          { ...verdict.decision, allowed: true, verdict: 'allow', wouldDeny: false }
        : verdict.decision;
      if (!decision.allowed) outcome = { parts: { rcode: RCODE.REFUSED }, source: 'refused' };
      else if (!this.options.bus.healthy)
        outcome = {
          parts: { rcode: RCODE.SERVFAIL },
          source: 'failed',
          reason: 'audit_unavailable',
        };
      else outcome = await this.resolve(query, question, name);
      const answers = outcome.parts.answers;
      if (decision.allowed && answers?.length && outcome.parts.rcode === RCODE.NOERROR)
        this.options.onAnswered?.(name, answers);
    }
    const response = this.encode(query, outcome.parts, transport);
    await this.record(query, question, name, decision, outcome, client, transport, started);
    return response;
  }

  /** Other opcodes (NOTIFY, UPDATE) and zero or several questions: answered, and recorded. */
  private unsupported(
    query: DecodedPacket,
    address: string | null,
    transport: DnsTransport,
    reason: 'dns_notimp' | 'dns_formerr',
  ): void {
    this.stats.answered++;
    const names = (query.questions ?? []).map((q) => canonicalName(q.name));
    this.options.bus.emitLater({
      type: 'dns.query',
      client: this.options.policies.identify(undefined, address).client,
      destination: names[0] ? { host: names[0], port: DNS_PORT, transport } : null,
      reason,
      severity: 'warning',
      description: `DNS message with opcode ${opcodeOf(query)} and ${names.length} questions answered ${reason === 'dns_notimp' ? 'NOTIMP' : 'FORMERR'}.`,
      extra: {
        dns: {
          id: query.id ?? 0,
          names,
          rcode: reason === 'dns_notimp' ? 'NOTIMP' : 'FORMERR',
          source: 'rejected',
        },
      },
    });
  }

  private async resolve(query: DecodedPacket, question: Question, name: string): Promise<Outcome> {
    const pinned = this.options.pins?.get(name);
    if (pinned)
      return { parts: pinnedAnswer(question, pinned, this.options.pinTtl ?? 60), source: 'pinned' };
    const key = questionKey(question);
    const cached = this.options.cache?.get(key);
    if (cached) {
      return {
        parts: {
          rcode: cached.rcode,
          answers: cached.answers,
          authorities: cached.authorities,
          additionals: cached.additionals,
          flags: cached.flags,
        },
        source: 'cache',
      };
    }
    try {
      const forwarded = await this.options.forwarder.forward(
        { name, type: question.type, class: question.class ?? 'IN' },
        query.flags ?? 0,
        ednsOf(query),
      );
      const r = forwarded.response;
      const flags = (r.flags ?? 0) & (dnsPacket.AUTHENTIC_DATA | dnsPacket.AUTHORITATIVE_ANSWER);
      this.options.cache?.put(key, r, flags);
      return {
        parts: {
          rcode: (r.flags ?? 0) & 0xf,
          answers: r.answers ?? [],
          authorities: r.authorities ?? [],
          additionals: r.additionals ?? [],
          flags,
        },
        source: 'upstream',
        upstream: forwarded.upstream,
        upstreamTransport: forwarded.transport,
      };
    } catch (err) {
      const reason = err instanceof ForwardError ? err.code : 'dns_failure';
      this.options.log.warn(
        { name, type: question.type, error: (err as Error).message },
        'DNS upstream failed',
      );
      return { parts: { rcode: RCODE.SERVFAIL }, source: 'failed', reason };
    }
  }

  /** Encodes the answer; UDP answers larger than the client accepts become TC answers. */
  private encode(query: DecodedPacket, parts: ResponseParts, transport: DnsTransport): Buffer {
    let out: Buffer;
    try {
      out = buildResponse(query, parts);
    } catch (err) {
      // An upstream record dns-packet cannot write back: better a failure than no answer.
      this.options.log.warn({ error: (err as Error).message }, 'DNS answer could not be encoded');
      out = buildResponse(query, { rcode: RCODE.SERVFAIL });
    }
    if (transport === 'udp' && out.length > udpLimitOf(query))
      return truncatedResponse(query, parts.rcode);
    return out;
  }

  private async record(
    query: DecodedPacket,
    question: Question,
    name: string,
    decision: Decision,
    outcome: Outcome,
    client: ClientContext,
    transport: DnsTransport,
    started: number,
  ): Promise<void> {
    const s = this.stats;
    s.answered++;
    if (outcome.source === 'refused') s.refused++;
    else if (outcome.source === 'pinned') s.pinned++;
    else if (outcome.source === 'cache') s.cacheHits++;
    else if (outcome.source === 'upstream') s.forwarded++;
    else if (outcome.source === 'failed') s.upstreamFailures++;
    const rcode = rcodeOf({ flags: outcome.parts.rcode });
    const answers = summariseAnswers(outcome.parts.answers);
    const input = {
      type: 'dns.query' as const,
      client,
      decision,
      destination: { host: name, port: DNS_PORT, transport },
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      description: describe(question, decision, outcome, rcode, answers.length),
      ...(outcome.source === 'refused' ? { severity: 'warning' as const } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      extra: {
        dns: {
          id: query.id ?? 0,
          name,
          type: question.type,
          class: question.class ?? 'IN',
          rcode,
          answers,
          source: outcome.source,
          cached: outcome.source === 'cache',
          upstream: outcome.upstream ?? null,
          upstreamTransport: outcome.upstreamTransport ?? null,
        },
      },
    };
    // A refusal is on disk before REFUSED goes out; other queries are not held up by the disk.
    if (outcome.source === 'refused') await this.options.bus.emit(input).catch(() => undefined);
    else this.options.bus.emitLater(input);
  }
}

function pinnedAnswer(question: Question, ips: readonly string[], ttl: number): ResponseParts {
  const want = question.type === 'A' ? 4 : question.type === 'AAAA' ? 6 : 0;
  const answers: Answer[] = ips
    .filter((ip) => (ip.includes(':') ? 6 : 4) === want)
    .map((ip) => ({
      type: want === 4 ? 'A' : 'AAAA',
      name: question.name,
      ttl,
      class: 'IN',
      data: ip,
    }));
  return { rcode: RCODE.NOERROR, answers, flags: dnsPacket.AUTHORITATIVE_ANSWER };
}

function describe(
  question: Question,
  decision: Decision,
  outcome: Outcome,
  rcode: string,
  answerCount: number,
): string {
  const asked = `DNS ${question.type} ${canonicalName(question.name)}`;
  if (outcome.source === 'refused') return `${asked} refused: ${explain(decision)}`;
  const how =
    outcome.source === 'pinned'
      ? 'answered from a --resolve pin'
      : outcome.source === 'cache'
        ? 'answered from the cache'
        : outcome.source === 'upstream'
          ? `forwarded to ${outcome.upstream}`
          : `failed (${outcome.reason ?? 'dns_failure'})`;
  const monitor = decision.wouldDeny ? ' (monitor mode: the policy would refuse it)' : '';
  return `${asked} ${how}: ${rcode}, ${answerCount} answer${answerCount === 1 ? '' : 's'}${monitor}.`;
}
