/**
 * The gate every connection passes, whatever protocol brought it (HTTP, CONNECT, SOCKS5,
 * transparent): the request path of DESIGN.md section 2 as one function of named steps.
 *
 *   decide(policy, target) → ask the decider if a rule says so → resolve once → classify every
 *   address → choose exactly the address that was classified → record the decision
 *
 * A denial is durably in the audit log before admit() returns, so the caller can answer 403
 * knowing the record exists.
 */
import {
  decide,
  decideAddress,
  decideObservedAddress,
  explain,
  viaUpstreamProxy,
  type CompiledPolicy,
  type Decision,
} from '../../policy/index.js';
import type { DestinationQuery } from '../../policy/decision.js';
import { parseIp } from '../../policy/normalise/ip.js';
import type { ClientContext } from '../../protocol/audit-event.js';
import type { EventBus } from '../events/event-bus.js';
import { ResolveError, type Resolver } from '../net/resolver.js';
import type { DeciderClient } from './decider-client.js';

export interface GateTarget extends DestinationQuery {
  scheme?: string;
  method?: string;
  path?: string;
}

export type Admission =
  | { ok: true; decision: Decision; address: string; viaParent?: boolean }
  | { ok: false; decision: Decision | null; status: number; reason: string; message: string };

export interface GateOptions {
  resolver: Resolver;
  bus: EventBus;
  decider?: DeciderClient;
  /** Addresses (ip:port) the proxy listens on: never a destination (no loops). */
  selfAddresses?: () => ReadonlySet<string>;
  /** A parent proxy is configured: `viaUpstreamProxy` destinations go through it, unresolved. */
  parentProxy?: boolean;
}

export class Gate {
  constructor(private readonly options: GateOptions) {}

  async admit(
    compiled: CompiledPolicy | null,
    client: ClientContext,
    target: GateTarget,
  ): Promise<Admission> {
    if (this.options.bus.active) this.recordOpened(client, target);
    if (!compiled) return this.deny(noPolicyDecision(target), client, target);
    let decision = decide(compiled, target);
    if (decision.reason === 'decider_required')
      decision = await this.askDecider(compiled, decision, client, target);
    if (!decision.allowed) return this.deny(decision, client, target);
    if (this.options.parentProxy && viaUpstreamProxy(compiled, target))
      return this.admitViaParent(decision, client, target);

    let addresses: string[];
    try {
      addresses = await this.addressesOf(decision);
    } catch (err) {
      const code = err instanceof ResolveError ? err.code : 'dns_failure';
      await this.options.bus
        .emit({
          type: 'request.failed',
          client,
          decision,
          reason: code,
          description: `Could not resolve ${decision.destination.host}: ${(err as Error).message}.`,
        })
        .catch(() => undefined);
      return { ok: false, decision, status: 502, reason: code, message: (err as Error).message };
    }

    const self = this.options.selfAddresses?.() ?? new Set<string>();
    let lastDenied: Decision | null = null;
    for (const address of addresses) {
      const checked = notSelf(decideAddress(compiled, decision, address), self, target.port);
      if (checked.allowed) return this.allow(checked, client, target, checked.destination.ip!, '');
      lastDenied = checked;
    }
    return this.deny(lastDenied!, client, target);
  }

  /**
   * A connection known by its address only (a redirected connection that names nothing): the
   * names it was looked up as decide it, then the address (decideObservedAddress). On success
   * the address to dial is exactly `target.host`, the address the client wrote to.
   */
  async admitObserved(
    compiled: CompiledPolicy | null,
    client: ClientContext,
    target: GateTarget,
    names: readonly string[],
  ): Promise<Admission> {
    if (this.options.bus.active) this.recordOpened(client, target);
    if (!compiled) return this.deny(noPolicyDecision(target), client, target);
    const transport = target.transport ?? 'tcp';
    const self = this.options.selfAddresses?.() ?? new Set<string>();
    const decision = notSelf(
      decideObservedAddress(compiled, names, target.host, target.port, transport),
      self,
      target.port,
    );
    if (!decision.allowed) return this.deny(decision, client, target);
    const how = ` (by the address ${target.host}, looked up as ${names.join(', ') || 'no name'})`;
    return this.allow(decision, client, target, target.host, how);
  }

  /**
   * Lets an allowed decision through: refused instead if the audit log cannot record it, and
   * recorded as request.allowed (`how` ends its description).
   */
  private allow(
    decision: Decision,
    client: ClientContext,
    target: GateTarget,
    address: string,
    how: string,
    viaParent = false,
  ): Admission {
    if (!this.options.bus.healthy)
      return {
        ok: false,
        decision,
        status: 503,
        reason: 'audit_unavailable',
        message: 'the audit log cannot be written, so egress lets nothing through',
      };
    // explain() composes a sentence: only worth it when something records the event.
    if (this.options.bus.active)
      this.options.bus.emitLater({
        type: 'request.allowed',
        client,
        decision,
        destination: eventDestination(decision, target),
        description: `${explain(decision)}${how}`,
      });
    // Two literals, not a spread: this runs once per admitted request.
    return viaParent ? { ok: true, decision, address, viaParent } : { ok: true, decision, address };
  }

  /** The parent proxy resolves and connects; egress records the decision without a lookup. */
  private admitViaParent(decision: Decision, client: ClientContext, target: GateTarget): Admission {
    const address = decision.destination.host;
    return this.allow(decision, client, target, address, ' (through the parent proxy)', true);
  }

  private async addressesOf(decision: Decision): Promise<string[]> {
    const host = decision.destination.host;
    if (parseIp(host).ok) return [host];
    return this.options.resolver.resolve(host);
  }

  private async askDecider(
    compiled: CompiledPolicy,
    decision: Decision,
    client: ClientContext,
    target: GateTarget,
  ): Promise<Decision> {
    const decider = this.options.decider;
    if (!decider || !decision.decider) {
      const failed: Decision = {
        ...decision,
        reason: 'decider_error',
        allowed: compiled.policy.mode === 'monitor',
        wouldDeny: compiled.policy.mode === 'monitor',
      };
      await this.options.bus
        .emit({
          type: 'decider.failure',
          client,
          decision: failed,
          description: 'A decide rule matched but no decider is configured; denied (fail closed).',
        })
        .catch(() => undefined);
      return failed;
    }
    return decider.decide(compiled, decision, client, target);
  }

  /** The first step of every request: what was asked, before anything is decided. */
  private recordOpened(client: ClientContext, target: GateTarget): void {
    // Not even the arguments are built when nothing records events (once per request).
    if (!this.options.bus.active) return;
    const port = target.port;
    this.options.bus.emitLater({
      type: 'request.opened',
      client,
      destination: {
        host: target.host,
        port,
        transport: target.transport ?? 'tcp',
        ...(target.scheme ? { scheme: target.scheme } : {}),
      },
      // The path is left out: it may carry secrets that only inspect mode's redaction may record.
      ...(target.method ? { http: { method: target.method } } : {}),
      description: `${client.address ?? 'A client'} asked for ${target.host.includes(':') ? `[${target.host}]` : target.host}:${port}.`,
    });
  }

  /** Records and returns a refusal decided outside the policy walk (fronting). */
  refuse(decision: Decision, client: ClientContext, target: GateTarget): Promise<Admission> {
    return this.deny(decision, client, target);
  }

  private async deny(
    decision: Decision,
    client: ClientContext,
    target: GateTarget,
  ): Promise<Admission> {
    const description = explain(decision);
    try {
      await this.options.bus.emit({
        type: 'request.denied',
        client,
        decision,
        destination: eventDestination(decision, target),
        description,
      });
    } catch {
      // The denial stands even if it cannot be recorded; the audit failure is reported elsewhere.
    }
    return { ok: false, decision, status: 403, reason: decision.reason, message: description };
  }
}

/** An address the proxy itself listens on (with this port) is denied, whatever else: no loops. */
function notSelf(decision: Decision, self: ReadonlySet<string>, port: number): Decision {
  if (!self.has(`${decision.destination.ip}:${port}`)) return decision;
  return {
    ...decision,
    allowed: false,
    verdict: 'deny',
    wouldDeny: false,
    reason: 'ip_class:proxy_self',
  };
}

function eventDestination(decision: Decision, target: GateTarget) {
  const d = decision.destination;
  return {
    host: d.host,
    ...(d.ip ? { ip: d.ip } : {}),
    port: d.port,
    transport: d.transport,
    ...(target.scheme ? { scheme: target.scheme } : {}),
  };
}

/** The decision for a client no policy applies to: deny, fail closed (DESIGN.md 3.3). */
export function noPolicyDecision(target: GateTarget): Decision {
  return {
    allowed: false,
    verdict: 'deny',
    mode: 'restrict',
    enforced: true,
    wouldDeny: false,
    reason: 'no_policy',
    rule: null,
    policy: { name: '(none)', version: '-' },
    destination: { host: target.host, port: target.port, transport: target.transport ?? 'tcp' },
  };
}
