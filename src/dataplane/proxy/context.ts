/** What every protocol handler of one proxy shares. */
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import type { ForwardUpstream } from './forward-upstream.js';
import type { Flows } from './request-flow.js';

export { DEFAULT_LIMITS, type ProxyLimits } from '../limits.js';
import type { ProxyLimits } from '../limits.js';

export interface ProxyContext {
  /** Makes the RequestFlow of each request (identify, gate, dial, the lifecycle events). */
  flows: Flows;
  /** Where the events go (the flows record through it; its health says if the log is writable). */
  bus: EventBus;
  limits: ProxyLimits;
  /** Keep-alive pools for plain-HTTP upstream requests (one per dialled IP:port origin). */
  upstream: ForwardUpstream;
  log: Logger;
}
