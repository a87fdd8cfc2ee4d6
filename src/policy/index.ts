/** The policy engine's public surface: pure, browser-safe. */
export * from './model.js';
export * from './decision.js';
export * from './source/diagnostics.js';
export { compilePolicy, type CompiledPolicy, type CompileOptions } from './engine/compile.js';
export { decide, decideAddress, viaUpstreamProxy } from './engine/decide.js';
export { decideIngress, type IngressQuery } from './engine/decide-ingress.js';
export { decideObservedAddress } from './engine/decide-observed.js';
export {
  nameMayBeAllowed,
  questionMayBeAllowed,
  type NameVerdict,
} from './engine/name-may-be-allowed.js';
export { explain, explainReason, describeDestination } from './engine/explain.js';
export { classifyIp, type IpClass } from './engine/ip-class.js';
export { normaliseHost, type NormalHost } from './normalise/host.js';
export { parseIp, type IpAddress } from './normalise/ip.js';
export { addressFromReverseName } from './normalise/reverse-name.js';
