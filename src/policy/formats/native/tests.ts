/**
 * The native `tests:` block: each case a destination (as `egress check` takes it) and the
 * verdict the policy must give it. Each case keeps its LINE:COL so a failing test is reported
 * where it is written.
 */
import { parseDestinationArg } from '../../destination.js';
import type { PolicyTest } from '../../model.js';
import type { Reporter } from '../../source/reporter.js';
import type { NativePolicyTestRaw } from './schema.js';

const DEST_FORMS =
  'write "host" (port 443), "host:port", "[v6]:port", an IP, "https://host[:port]" or "udp://host:port"';

export function convertTests(
  raw: readonly NativePolicyTestRaw[],
  reporter: Reporter,
): PolicyTest[] {
  const tests: PolicyTest[] = [];
  raw.forEach((test, i) => {
    const path = ['tests', i];
    const dest = parseDestinationArg(test.dest);
    if (!dest.ok) {
      reporter.error([...path, 'dest'], `not a destination: ${dest.error}`, DEST_FORMS);
      return;
    }
    tests.push({ dest: test.dest, expect: test.expect, source: reporter.location(path) });
  });
  return tests;
}
