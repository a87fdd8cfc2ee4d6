/**
 * `egress proxy`: checks every flag and reads the policy files before anything starts (bad input
 * exits 2), then hands over to the runtime in `src/dataplane/node/proxy-node.ts`.
 */
import { runProxyNode } from '../../dataplane/node/proxy-node.js';
import { openFilePolicySource } from '../../dataplane/sources/file-policy-source.js';
import type { Io } from '../io.js';
import { parseProxyFlags, type ProxyCommandOptions } from './proxy-flags.js';

export type { ProxyCommandOptions } from './proxy-flags.js';

export async function runProxy(options: ProxyCommandOptions, io: Io): Promise<number> {
  const flags = parseProxyFlags(options);
  // Every process (single, supervisor, each worker) reads the policies itself: a bad policy
  // exits 2 before any worker or listener starts, and each worker reloads on its own SIGHUP.
  const source = openFilePolicySource(options);
  return runProxyNode(options, flags, source, io);
}
