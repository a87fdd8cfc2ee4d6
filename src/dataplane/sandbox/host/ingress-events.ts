/**
 * Published (inbound) traffic as audit events. The bridge relays `--publish` traffic inside
 * the namespaces and reports each step (inside/publish-relay.ts); here each step becomes one
 * canonical event, with the policy's ingress decision (decideIngress):
 *
 * - `ingress.accepted`: a TCP connection or UDP flow (a new sender) was delivered to the port;
 * - `ingress.refused`: it could not be (nothing listens on the port inside, too many flows);
 * - `ingress.closed`: it ended, with bytesIn (from the peer into the sandbox), bytesOut and
 *   durationMs, as request.closed has for outbound traffic.
 *
 * `client.address` is the peer's address; `destination` the sandbox's port it went to.
 */
import { decideIngress, explain, type CompiledPolicy } from '../../../policy/index.js';
import type { EventBus } from '../../events/event-bus.js';
import type { ClientContext } from '../../../protocol/audit-event.js';
import type { BridgeIngress } from '../protocol.js';

export interface IngressEventsOptions {
  bus: EventBus;
  client: ClientContext;
  compiled: () => CompiledPolicy;
}

const bracket = (address: string) => (address.includes(':') ? `[${address}]` : address);

function words(step: BridgeIngress): string {
  const peer = `${bracket(step.peer.address)}:${step.peer.port}`;
  const what = step.transport === 'tcp' ? 'connection' : 'UDP flow';
  const to = `sandbox port ${step.port}/${step.transport} (published as port ${step.hostPort})`;
  if (step.phase === 'accepted')
    return `Inbound ${what} from ${peer} to ${to} delivered to ${step.inner ?? 'the sandbox'}.`;
  if (step.phase === 'refused') {
    const why =
      step.reason === 'flow_limit'
        ? 'too many UDP flows are open'
        : `nothing listens on port ${step.port} inside the sandbox`;
    return `Inbound ${what} from ${peer} to ${to} refused: ${why}.`;
  }
  return `Inbound ${what} from ${peer} to ${to} closed.`;
}

export class IngressEvents {
  constructor(private readonly options: IngressEventsOptions) {}

  record(step: BridgeIngress): void {
    const { bus, client } = this.options;
    const decision = decideIngress(this.options.compiled(), {
      port: step.port,
      transport: step.transport,
    });
    const policy = step.phase === 'accepted' ? ` ${explain(decision)}` : '';
    bus.emitLater({
      type: `ingress.${step.phase}`,
      client: { ...client, address: step.peer.address },
      decision,
      destination: {
        host: step.inner ?? 'localhost',
        ...(step.inner ? { ip: step.inner } : {}),
        port: step.port,
        transport: step.transport,
      },
      ...(step.phase === 'refused'
        ? { reason: step.reason ?? 'nothing_listening', severity: 'warning' as const }
        : {}),
      ...(step.bytesIn !== undefined ? { bytesIn: step.bytesIn } : {}),
      ...(step.bytesOut !== undefined ? { bytesOut: step.bytesOut } : {}),
      ...(step.durationMs !== undefined ? { durationMs: step.durationMs } : {}),
      description: `${words(step)}${policy}`,
      extra: { ingress: { hostPort: step.hostPort, peerPort: step.peer.port, id: step.id } },
    });
  }
}
