/**
 * The interface through which the gate asks an external decider (DESIGN.md 3.3). The webhook and
 * JS-module implementations live in ../decider/; whatever they do, a timeout, an error or a
 * malformed answer must come back as a deny (decider_timeout, decider_error, decider_bad_return).
 */
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import type { ClientContext } from '../../protocol/audit-event.js';
import type { GateTarget } from './gate.js';

export interface DeciderClient {
  decide(
    compiled: CompiledPolicy,
    pending: Decision,
    client: ClientContext,
    target: GateTarget,
  ): Promise<Decision>;
}
