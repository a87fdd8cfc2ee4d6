/**
 * The CLI's view of policy files: reading goes through the data plane's policy-file reader (the
 * same one `egress proxy` reloads with); the hint for a file in another format is the CLI's.
 */
import { basename } from 'node:path';
import type { FormatId } from '../policy/formats/index.js';
import type { PolicyError } from '../policy/source/diagnostics.js';
import type { PolicyOptions } from '../dataplane/sources/policy-file.js';

export {
  loadPolicyFromOptions,
  parseFormat,
  type LoadedPolicy,
  type PolicyOptions,
} from '../dataplane/sources/policy-file.js';

/** A hint for a native-format failure on a file that is plainly in another format. */
export function formatHint(err: PolicyError, options: PolicyOptions): string | undefined {
  if (options.from && options.from !== 'native') return undefined;
  const text = err.diagnostics.map((d) => d.message).join('\n');
  const guesses: Array<[RegExp, FormatId]> = [
    [/"whitelistedDomains"|"restrictedTraffic"/, 'sds'],
    [/"allowedDomains"|"network"/, 'srt'],
    [/"services"|"global_deny_list"/, 'smokescreen'],
    [/"selector"/, 'fly'],
    [/"jobs"|"on"/, 'harden-runner'],
  ];
  for (const [re, format] of guesses)
    if (re.test(text))
      return `if ${basename(options.policy ?? '')} is a ${format} policy, add --from ${format}`;
  return undefined;
}
