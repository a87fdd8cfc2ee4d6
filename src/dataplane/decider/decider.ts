/**
 * The interface through which the gate asks an external decider (DESIGN.md 3.3), and what a
 * request asks for. The webhook and JS-module implementation is deciders.ts; whatever it does,
 * a timeout, an error or a malformed answer must come back as a deny (decider_timeout,
 * decider_error, decider_bad_return).
 */
import type { CompiledPolicy, Decision, DestinationQuery } from '../../policy/index.js';
import type { ClientContext } from '../../protocol/audit-event.js';

/** What a request asks for, as the gate and the decider see it. */
export interface RequestTarget extends DestinationQuery {
  scheme?: string;
  method?: string;
  /** The request path (HTTP only); never recorded unredacted. */
  path?: string;
}

export interface DeciderClient {
  /**
   * The decision for a `decide` rule's pending decision. `requestId` is the request's id: a
   * `decider.failure` event the decider records carries it.
   */
  decide(
    compiled: CompiledPolicy,
    pending: Decision,
    client: ClientContext,
    target: RequestTarget,
    requestId?: string | null,
  ): Promise<Decision>;
}
