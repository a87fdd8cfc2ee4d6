/**
 * Forwards one question to the upstream resolvers: over UDP from a fresh socket (random source
 * port) with a fresh random id, waiting `timeoutMs` per try and moving to the next upstream on
 * a timeout, SERVFAIL or REFUSED; when an answer comes back truncated (TC) the same upstream is
 * asked again over TCP. Answers are accepted only from the address asked, with the id and the
 * question asked (a spoofed or stray datagram is ignored, not believed).
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP, isIPv6, Socket } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Question } from 'dns-packet';
import { EgressError } from '../../protocol/errors.js';
import { EDNS_UDP_SIZE, RCODE, canonicalName } from './dns-message.js';
import { frame, readFrames } from './tcp-framing.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsForwarderOptions {
  upstreams: Upstream[];
  /** Milliseconds per try (UDP and TCP alike). */
  timeoutMs?: number;
  /** How many times the upstream list is walked before giving up. */
  rounds?: number;
}

export interface ForwardResult {
  response: DecodedPacket;
  upstream: string;
  transport: 'udp' | 'tcp';
}

export class ForwardError extends EgressError<'dns_timeout' | 'dns_failure'> {
  override name = 'ForwardError';
}

/** `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT` or a bare IPv6 address; port 53 by default. */
export function parseUpstream(text: string): Upstream {
  const upstream = splitUpstream(text);
  // Answers are matched by source address, so the upstream must be an address, not a name.
  if (!isIP(upstream.host))
    throw new Error(`DNS upstream "${text}" must be an IP address (HOST is not resolved)`);
  return upstream;
}

function splitUpstream(text: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(text);
  if (bracketed) return { host: bracketed[1]!, port: portOf(bracketed[2], text) };
  if (isIPv6(text)) return { host: text, port: 53 };
  const m = /^([^:]+)(?::([0-9]{1,5}))?$/.exec(text);
  if (!m) throw new Error(`DNS upstream "${text}" must look like HOST or HOST:PORT`);
  return { host: m[1]!, port: portOf(m[2], text) };
}

function portOf(text: string | undefined, whole: string): number {
  if (text === undefined) return 53;
  const port = Number(text);
  if (port < 1 || port > 65535) throw new Error(`DNS upstream "${whole}": bad port ${text}`);
  return port;
}

/** Nameservers of a resolv.conf text, in order. */
export function nameserversFromResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    // Zone ids (fe80::1%eth0) cannot be dialled portably: skip them.
    if (m && !m[1]!.includes('%')) out.push({ host: m[1]!, port: 53 });
  }
  return out;
}

export function formatUpstream(u: Upstream): string {
  return isIPv6(u.host) ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

function sameQuestion(a: Question | undefined, b: Question): boolean {
  return (
    a !== undefined &&
    canonicalName(a.name) === canonicalName(b.name) &&
    a.type === b.type &&
    (a.class ?? 'IN') === (b.class ?? 'IN')
  );
}

export class DnsForwarder {
  readonly upstreams: readonly Upstream[];
  private readonly timeoutMs: number;
  private readonly rounds: number;

  constructor(options: DnsForwarderOptions) {
    if (options.upstreams.length === 0) throw new Error('the DNS forwarder needs an upstream');
    this.upstreams = options.upstreams;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.rounds = options.rounds ?? 2;
  }

  /**
   * Asks the upstreams about `question`. `flags` carries the client's RD/CD bits and `edns`
   * its OPT record (DO bit), so DNSSEC-aware clients get what they asked for.
   */
  async forward(question: Question, flags: number, edns?: Answer): Promise<ForwardResult> {
    let lastAnswer: ForwardResult | undefined;
    let timedOut = false;
    for (let round = 0; round < this.rounds; round++) {
      for (const upstream of this.upstreams) {
        const id = randomInt(0, 65536);
        const query = dnsPacket.encode({
          type: 'query',
          id,
          flags: flags & (dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED),
          questions: [question],
          additionals: edns
            ? [{ ...edns, udpPayloadSize: EDNS_UDP_SIZE, options: [] } as Answer]
            : [],
        });
        let result: ForwardResult | undefined;
        try {
          const udp = await this.askUdp(upstream, query, id, question);
          result = udp.flag_tc
            ? {
                response: await this.askTcp(upstream, query, id, question),
                upstream: formatUpstream(upstream),
                transport: 'tcp',
              }
            : { response: udp, upstream: formatUpstream(upstream), transport: 'udp' };
        } catch (err) {
          if (err instanceof ForwardError && err.code === 'dns_timeout') timedOut = true;
          continue;
        }
        const rcode = (result.response.flags ?? 0) & 0xf;
        if (rcode !== RCODE.SERVFAIL && rcode !== RCODE.REFUSED) return result;
        lastAnswer = result;
      }
    }
    if (lastAnswer) return lastAnswer;
    throw timedOut
      ? new ForwardError('dns_timeout', `no upstream answered within ${this.timeoutMs} ms`)
      : new ForwardError('dns_failure', 'every upstream failed');
  }

  private askUdp(
    upstream: Upstream,
    query: Buffer,
    id: number,
    question: Question,
  ): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket(isIPv6(upstream.host) ? 'udp6' : 'udp4');
      const done = (fn: () => void) => {
        clearTimeout(timer);
        socket.removeAllListeners('message');
        socket.on('error', () => {});
        socket.close();
        fn();
      };
      const timer = setTimeout(
        () => done(() => reject(new ForwardError('dns_timeout', 'upstream timed out'))),
        this.timeoutMs,
      );
      socket.on('error', (err) => done(() => reject(new ForwardError('dns_failure', err.message))));
      socket.on('message', (msg, rinfo) => {
        if (rinfo.address !== upstream.host || rinfo.port !== upstream.port) return;
        let response: DecodedPacket;
        try {
          response = dnsPacket.decode(msg);
        } catch {
          return;
        }
        if (response.type !== 'response' || response.id !== id) return;
        if (!sameQuestion(response.questions?.[0], question)) return;
        done(() => resolve(response));
      });
      socket.send(query, upstream.port, upstream.host, (err) => {
        if (err) done(() => reject(new ForwardError('dns_failure', err.message)));
      });
    });
  }

  private askTcp(
    upstream: Upstream,
    query: Buffer,
    id: number,
    question: Question,
  ): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const done = (fn: () => void) => {
        clearTimeout(timer);
        socket.destroy();
        fn();
      };
      const timer = setTimeout(
        () => done(() => reject(new ForwardError('dns_timeout', 'upstream timed out (TCP)'))),
        this.timeoutMs,
      );
      socket.on('error', (err) => done(() => reject(new ForwardError('dns_failure', err.message))));
      socket.on('close', () =>
        done(() => reject(new ForwardError('dns_failure', 'upstream closed the TCP connection'))),
      );
      readFrames(socket, (frame) => {
        try {
          const response = dnsPacket.decode(frame);
          if (response.id === id && sameQuestion(response.questions?.[0], question))
            done(() => resolve(response));
        } catch {
          // Ignore a frame we cannot read; the timer ends the wait.
        }
      });
      socket.connect(upstream.port, upstream.host, () => socket.write(frame(query)));
    });
  }
}
