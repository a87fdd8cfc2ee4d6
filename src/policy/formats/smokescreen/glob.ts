/**
 * smokescreen domain globs (acl.go ValidateDomainGlob and HostMatchesGlob): an exact name, or
 * `*.` followed by a name, which matches every subdomain at any depth but not the name itself:
 * the native `**.name`. Anything else is an error smokescreen would also refuse to load.
 */
import type { Selector } from '../../model.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { normaliseHost } from '../../normalise/host.js';
import { targetSelector } from '../common.js';

/** The problem smokescreen would report for this glob, with what to write instead. */
function globProblem(glob: string): { message: string; hint?: string } | undefined {
  if (glob === '') return { message: 'a domain glob cannot be empty' };
  if (glob === '*' || glob === '*.')
    return {
      message: `"${glob}": a domain glob must not match everything`,
      hint: 'to allow every host, give the service "action: open"',
    };
  if (glob.startsWith('*') && !glob.startsWith('*.'))
    return {
      message: `"${glob}": a domain glob must represent a full prefix (sub)domain`,
      hint: `did you mean "*.${glob.slice(1).replace(/^\.+/, '')}"?`,
    };
  const domain = glob.startsWith('*.') ? glob.slice(2) : glob;
  if (domain.includes('*'))
    return { message: `"${glob}": domain globs are only supported as a "*." prefix` };
  if (/[:/\s]/.test(domain))
    return {
      message: `"${glob}" is not a domain: smokescreen globs are host names without ports or paths`,
    };
  const normal = normaliseHost(domain);
  if (!normal.ok) return { message: `"${glob}": incorrect ACL entry: ${normal.error}` };
  if (normal.host.name !== domain.toLowerCase().replace(/\.$/, '')) {
    const fixed = (glob.startsWith('*.') ? '*.' : '') + normal.host.name;
    return { message: `"${glob}": incorrect ACL entry`, hint: `use "${fixed}"` };
  }
  return undefined;
}

/** Validates a glob (reporting errors) and returns its selector. */
export function smokescreenGlobSelector(
  glob: string,
  reporter: Reporter,
  path: Path,
): Selector | undefined {
  const problem = globProblem(glob);
  if (problem) {
    reporter.error(path, problem.message, problem.hint);
    return undefined;
  }
  return targetSelector(glob.startsWith('*.') ? `*${glob}` : glob, reporter, path);
}
