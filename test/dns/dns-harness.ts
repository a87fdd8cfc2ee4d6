/**
 * Real sockets on loopback for DNS tests: a fake upstream resolver (UDP and TCP, dns-packet)
 * that records every question it is asked, the policy-aware DNS server in-process, and small
 * clients (raw UDP/TCP queries, dig).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, Socket, type Server } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Question } from 'dns-packet';
import { compilePolicy } from '../../src/policy/index.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';
import { EventBus } from '../../src/dataplane/events/event-bus.js';
import type { AuditEvent } from '../../src/protocol/audit-event.js';
import { silentLogger } from '../../src/dataplane/log.js';
import { ListenerPolicy } from '../../src/dataplane/proxy/client-identity.js';
import { DnsCache, type DnsCacheOptions } from '../../src/dataplane/dns/dns-cache.js';
import { DnsForwarder, type Upstream } from '../../src/dataplane/dns/dns-forwarder.js';
import { PolicyDnsServer } from '../../src/dataplane/dns/dns-server.js';
import { frame, readFrames } from '../../src/dataplane/dns/tcp-framing.js';

export interface Asked {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export interface FakeZone {
  /** name → records (A/AAAA/TXT/...); names absent here answer NXDOMAIN with an SOA. */
  records: Record<string, Answer[]>;
  /** Names whose UDP answers come back truncated (TC): the full answer only over TCP. */
  truncateOverUdp?: Set<string>;
  /** Never answer (a dead upstream). */
  silent?: boolean;
  /** SOA minimum for NXDOMAIN answers (seconds). */
  negativeTtl?: number;
}

/** A DNS upstream on `host` that answers from `zone` and records what it was asked. */
export class FakeUpstream {
  readonly asked: Asked[] = [];
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  port = 0;

  constructor(
    readonly host: string,
    readonly zone: FakeZone,
  ) {}

  get upstream(): Upstream {
    return { host: this.host, port: this.port };
  }

  names(): string[] {
    return this.asked.map((a) => a.name);
  }

  async start(): Promise<this> {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, this.host, resolve));
    this.port = udp.address().port;
    udp.on('message', (msg, rinfo) => {
      const reply = this.reply(msg, 'udp');
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
    this.udp = udp;
    const tcp = createServer((socket) => {
      socket.on('error', () => socket.destroy());
      readFrames(socket, (message) => {
        const reply = this.reply(message, 'tcp');
        if (reply) socket.write(frame(reply));
      });
    });
    await new Promise<void>((resolve) => tcp.listen(this.port, this.host, resolve));
    this.tcp = tcp;
    return this;
  }

  private reply(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
    const query = dnsPacket.decode(msg);
    const q = query.questions![0]!;
    const name = q.name.toLowerCase();
    this.asked.push({ name, type: q.type, transport });
    if (this.zone.silent) return null;
    const base = { type: 'response' as const, id: query.id, questions: query.questions };
    if (transport === 'udp' && this.zone.truncateOverUdp?.has(name))
      return dnsPacket.encode({ ...base, flags: dnsPacket.TRUNCATED_RESPONSE });
    const records = this.zone.records[name];
    if (!records) {
      return dnsPacket.encode({
        ...base,
        flags: 3, // NXDOMAIN
        authorities: [
          {
            type: 'SOA',
            name: 'test',
            ttl: 3600,
            data: {
              mname: 'ns.test',
              rname: 'admin.test',
              minimum: this.zone.negativeTtl ?? 60,
            },
          },
        ],
      });
    }
    return dnsPacket.encode({
      ...base,
      flags: dnsPacket.RECURSION_AVAILABLE,
      answers: records.filter((r) => r.type === q.type),
    });
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
}

export function a(name: string, ip: string, ttl = 300): Answer {
  return { type: 'A', name, ttl, class: 'IN', data: ip };
}

export interface TestDns {
  server: PolicyDnsServer;
  port: number;
  events: AuditEvent[];
  policies: ListenerPolicy;
  close(): Promise<void>;
}

export interface TestDnsOptions {
  upstreams: Upstream[];
  pins?: Record<string, string[]>;
  cache?: DnsCacheOptions | null;
  timeoutMs?: number;
  tcpIdleTimeoutMs?: number;
  host?: string;
}

export async function startDns(policyYaml: string, options: TestDnsOptions): Promise<TestDns> {
  const policy = parseNative({ text: policyYaml, file: 'test-policy.yaml' }).policy;
  const policies = new ListenerPolicy(compilePolicy(policy), 'test-ws');
  const bus = new EventBus(null);
  const events: AuditEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const server = new PolicyDnsServer({
    host: options.host ?? '127.0.0.1',
    port: 0,
    policies,
    forwarder: new DnsForwarder({
      upstreams: options.upstreams,
      timeoutMs: options.timeoutMs ?? 300,
    }),
    cache: options.cache === null ? null : new DnsCache(options.cache ?? {}),
    pins: new Map(Object.entries(options.pins ?? {})),
    bus,
    log: silentLogger(),
    ...(options.tcpIdleTimeoutMs ? { tcpIdleTimeoutMs: options.tcpIdleTimeoutMs } : {}),
  });
  const address = await server.start();
  return { server, port: address.port, events, policies, close: () => server.close() };
}

export function query(name: string, type: Question['type'] = 'A', id = 4242): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
  });
}

/** Sends raw bytes over UDP; resolves with the decoded answer, or null after `waitMs`. */
export function udpExchange(
  port: number,
  message: Buffer,
  waitMs = 1000,
  host = '127.0.0.1',
): Promise<DecodedPacket | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, waitMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(msg));
    });
    socket.send(message, port, host);
  });
}

/** Sends several framed messages on one TCP connection; resolves with the answers received. */
export function tcpExchange(
  port: number,
  messages: Buffer[],
  expect = messages.length,
  host = '127.0.0.1',
): Promise<DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const answers: DecodedPacket[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answers);
    }, 2000);
    socket.on('error', reject);
    readFrames(socket, (f) => {
      answers.push(dnsPacket.decode(f));
      if (answers.length === expect) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answers);
      }
    });
    socket.connect(port, host, () => socket.write(Buffer.concat(messages.map(frame))));
  });
}

export function rcodeName(p: DecodedPacket): string {
  return (p as DecodedPacket & { rcode: string }).rcode;
}

/** Runs dig against the server; resolves with stdout. */
export function dig(port: number, args: string[], host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'dig',
      [`@${host}`, '-p', String(port), '+tries=1', '+time=2', ...args],
      { timeout: 10_000 },
      (err, stdout) => (err && !stdout ? reject(err) : resolve(stdout)),
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The data of every answer record (A/AAAA addresses, PTR/CNAME targets, ...). */
export function datas(p: DecodedPacket | null | undefined): unknown[] {
  return (p?.answers ?? []).map((x) => ('data' in x ? x.data : null));
}

/** A dns.query event with its `dns` extra. */
export type DnsEvent = AuditEvent & {
  dns: {
    name: string;
    type: string;
    rcode: string;
    answers: string[];
    source: string;
    cached: boolean;
    upstream: string | null;
    upstreamTransport: string | null;
  };
};

export function asDns(event: AuditEvent | undefined): DnsEvent {
  assert.ok(event, 'no event');
  assert.equal(event.type, 'dns.query');
  return event as DnsEvent;
}
