/**
 * The gate every request passes, whatever protocol brought it (HTTP, CONNECT, SOCKS5,
 * transparent): the judging half of the request path (DESIGN.md section 2) as one function of
 * named steps.
 *
 *   decide(policy, target) → the Host header against the URI (fronting) → ask the decider if a
 *   rule says so → the parent proxy for its destinations → resolve once → classify every
 *   address → choose exactly the address that was classified
 *
 * The gate records nothing of the request's lifecycle: it answers an Admission (the decision and
 * the address to dial) or a Refusal (a code and the decision it concerns), and the RequestFlow
 * that asked records the verdict and renders a refusal in the client's medium.
 */
import {
  decide,
  decideAddress,
  decideObservedAddress,
  viaUpstreamProxy,
  type CompiledPolicy,
  type Decision,
} from '../../policy/index.js';
import { hostHeaderFronting } from '../../policy/engine/fronting.js';
import { deciderFailed, noPolicyDecision } from '../../policy/engine/refusals.js';
import { parseIp } from '../../policy/normalise/ip.js';
import type { ClientContext } from '../../protocol/audit-event.js';
import { denial, failure, type Refusal } from '../../protocol/refusals.js';
import type { DeciderClient, RequestTarget } from '../decider/decider.js';
import type { EventBus } from '../events/event-bus.js';
import { hostHeaderTarget } from '../protocols/http-target.js';
import { ResolveError, type Resolver } from '../net/resolver.js';

/** What the gate judges (a RequestFlow is one). */
export interface AdmissionQuery {
  readonly id: string;
  readonly client: ClientContext;
  readonly compiled: CompiledPolicy | null;
  readonly target: RequestTarget;
  /** The Host header of an absolute-form request, checked against its URI; else undefined. */
  readonly hostHeader: string | undefined;
}

export type Admission =
  | {
      ok: true;
      decision: Decision;
      /** The classified address to dial (the destination name, through a parent proxy). */
      address: string;
      viaParent: boolean;
      /** How it was admitted, ending request.allowed's description ('' for the usual way). */
      how: string;
    }
  | { ok: false; refusal: Refusal };

export interface GateOptions {
  resolver: Resolver;
  bus: EventBus;
  decider?: DeciderClient;
  /** Where the proxy listens (`ip:port`, `[v6]:port`): never a destination (no loops). */
  selfAddresses?: () => ReadonlySet<string>;
  /** A parent proxy is configured: `viaUpstreamProxy` destinations go through it, unresolved. */
  parentProxy?: boolean;
}

const NO_ADDRESSES: ReadonlySet<string> = new Set();

export class Gate {
  constructor(private readonly options: GateOptions) {}

  async admit(query: AdmissionQuery): Promise<Admission> {
    const { compiled, target } = query;
    if (!compiled) return { ok: false, refusal: denial(noPolicyDecision(target)) };
    // Host fronting first: in restrict mode it refuses, in monitor mode it is what is recorded.
    const fronted =
      query.hostHeader === undefined
        ? undefined
        : hostHeaderFronting(compiled, target, hostHeaderTarget(query.hostHeader, target.port));
    if (fronted && !fronted.allowed) return { ok: false, refusal: denial(fronted) };
    let decision = decide(compiled, target);
    if (decision.reason === 'decider_required')
      decision = await this.askDecider(compiled, decision, query);
    if (!decision.allowed) return { ok: false, refusal: denial(decision) };
    if (this.options.parentProxy && viaUpstreamProxy(compiled, target))
      return this.allow(decision, decision.destination.host, ' (through the parent proxy)', true);

    let addresses: string[];
    try {
      addresses = await this.addressesOf(decision);
    } catch (err) {
      const code = err instanceof ResolveError ? err.code : 'dns_failure';
      return { ok: false, refusal: failure(code, (err as Error).message, decision) };
    }
    const self = { selfAddresses: this.options.selfAddresses?.() ?? NO_ADDRESSES };
    let lastDenied: Decision | null = null;
    for (const address of addresses) {
      const checked = decideAddress(compiled, decision, address, self);
      if (checked.allowed) {
        if (fronted)
          return this.allow(frontedAt(fronted, checked), address, ` (Host: ${query.hostHeader})`);
        return this.allow(checked, checked.destination.ip!, '');
      }
      lastDenied = checked;
    }
    return { ok: false, refusal: denial(lastDenied!) };
  }

  /**
   * A connection known by its address only (a redirected connection that names nothing): the
   * names it was looked up as decide it, then the address (decideObservedAddress). On success
   * the address to dial is exactly `target.host`, the address the client wrote to.
   */
  admitObserved(query: AdmissionQuery, names: readonly string[]): Admission {
    const { compiled, target } = query;
    if (!compiled) return { ok: false, refusal: denial(noPolicyDecision(target)) };
    const self = { selfAddresses: this.options.selfAddresses?.() ?? NO_ADDRESSES };
    const transport = target.transport ?? 'tcp';
    const decision = decideObservedAddress(
      compiled,
      names,
      target.host,
      target.port,
      transport,
      self,
    );
    if (!decision.allowed) return { ok: false, refusal: denial(decision) };
    const how = ` (by the address ${target.host}, looked up as ${names.join(', ') || 'no name'})`;
    return this.allow(decision, target.host, how);
  }

  /** Lets an allowed decision through, or refuses it if the audit log cannot record it. */
  private allow(decision: Decision, address: string, how: string, viaParent = false): Admission {
    if (!this.options.bus.healthy)
      return {
        ok: false,
        refusal: failure(
          'audit_unavailable',
          'the audit log cannot be written, so egress lets nothing through',
          decision,
        ),
      };
    return { ok: true, decision, address, viaParent, how };
  }

  private async addressesOf(decision: Decision): Promise<string[]> {
    const host = decision.destination.host;
    if (parseIp(host).ok) return [host];
    return this.options.resolver.resolve(host);
  }

  private async askDecider(
    compiled: CompiledPolicy,
    decision: Decision,
    query: AdmissionQuery,
  ): Promise<Decision> {
    const decider = this.options.decider;
    if (decider && decision.decider)
      return decider.decide(compiled, decision, query.client, query.target, query.id);
    const failed = deciderFailed(compiled, decision, 'decider_error');
    await this.options.bus
      .emit({
        type: 'decider.failure',
        requestId: query.id,
        client: query.client,
        decision: failed,
        description: 'A decide rule matched but no decider is configured; denied (fail closed).',
      })
      .catch(() => undefined);
    return failed;
  }
}

/** A fronted request monitor mode lets through: the fronting decision, at the classified address. */
function frontedAt(fronted: Decision, checked: Decision): Decision {
  return { ...fronted, destination: checked.destination };
}
