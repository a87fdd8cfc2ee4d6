/**
 * Real sockets on loopback for proxy tests: an origin server on 127.0.0.x, an egress proxy
 * in-process with a policy written as native YAML, and the events it emitted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicy } from '../../src/policy/index.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';
import { AuditLog } from '../../src/dataplane/events/audit-log.js';
import { EventBus } from '../../src/dataplane/events/event-bus.js';
import type { AuditEvent } from '../../src/protocol/audit-event.js';
import { silentLogger } from '../../src/dataplane/log.js';
import { SystemResolver, type Resolver } from '../../src/dataplane/net/resolver.js';
import { ListenerPolicy } from '../../src/dataplane/proxy/client-identity.js';
import { EgressProxy, type EgressProxyOptions } from '../../src/dataplane/proxy/proxy-server.js';

export interface Origin {
  server: Server;
  host: string;
  port: number;
  /** Every request the origin saw (method, url, host header, body). */
  seen: Array<{
    method: string;
    url: string;
    host: string | undefined;
    body: string;
    headers: IncomingMessage['headers'];
  }>;
  close(): Promise<void>;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const defaultHandler: OriginHandler = (req, res, body) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`origin ${req.method} ${req.url} body=${body.length}\n`);
};

/** An HTTP origin on `host` (a 127.0.0.x address) and an ephemeral port. */
export async function startOrigin(
  host = '127.0.0.2',
  handler: OriginHandler = defaultHandler,
): Promise<Origin> {
  const seen: Origin['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host,
        body,
        headers: req.headers,
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    host,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestProxy {
  proxy: EgressProxy;
  url: string;
  port: number;
  events: AuditEvent[];
  auditPath: string;
  policies: ListenerPolicy;
  close(): Promise<void>;
}

export interface TestProxyOptions extends Partial<
  Omit<EgressProxyOptions, 'policies' | 'resolver' | 'bus' | 'log'>
> {
  /** Replaces the pinned resolver (DNS rebinding tests). */
  resolver?: Resolver;
  /** NAME=IP pins; every other name fails to resolve (tests never reach a real resolver). */
  pins?: Record<string, string>;
  /** Write a durable audit log (default true). */
  audit?: boolean;
  /** Where the audit log goes (default: a fresh temp file). */
  auditPath?: string;
}

/** Starts an egress proxy on 127.0.0.1 with a native-YAML policy. */
export async function startProxy(
  policyYaml: string,
  options: TestProxyOptions = {},
): Promise<TestProxy> {
  const policy = parseNative({ text: policyYaml, file: 'test-policy.yaml' }).policy;
  const policies = new ListenerPolicy(compilePolicy(policy), 'test-ws');
  const auditPath =
    options.auditPath ?? join(mkdtempSync(join(tmpdir(), 'egress-audit-')), 'audit.ndjson');
  const audit = options.audit === false ? null : new AuditLog(auditPath);
  await audit?.start();
  const bus = new EventBus(audit);
  const events: AuditEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const pins = new Map(Object.entries(options.pins ?? {}).map(([name, ip]) => [name, [ip]]));
  const {
    pins: _pins,
    audit: _audit,
    resolver: _resolver,
    auditPath: _auditPath,
    ...rest
  } = options;
  const proxy = new EgressProxy({
    host: '127.0.0.1',
    port: 0,
    policies,
    resolver: options.resolver ?? new SystemResolver({ pins, pinnedOnly: true }),
    bus,
    log: silentLogger(),
    ...rest,
  });
  const address = await proxy.start();
  return {
    proxy,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    events,
    auditPath,
    policies,
    close: async () => {
      await proxy.close();
      await audit?.close();
    },
  };
}

/** Events are emitted asynchronously after responses: tests poll for them (the one helper). */
export { eventually } from './poll.js';
