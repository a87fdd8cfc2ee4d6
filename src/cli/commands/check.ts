/** `egress check`: decide destinations against a policy, as a table or as JSON. */
import { compilePolicy, decide, explain, type Decision } from '../../policy/index.js';
import { checkReport } from '../../policy/check-report.js';
import { parseDestinationArg, type DestinationArg } from '../../policy/destination.js';
import type { Io } from '../io.js';
import { loadPolicyFromOptions, type PolicyOptions } from '../load-policy.js';
import { renderTable } from '../table.js';
import { EXIT_OK, UsageError } from '../errors.js';

export interface CheckOptions extends PolicyOptions {
  json?: boolean;
  explain?: boolean;
}

function ruleCell(d: Decision): string {
  if (!d.rule) return d.reason.startsWith('default') ? `default (${d.verdict})` : '-';
  const where = d.rule.source ? ` at ${d.rule.source}` : '';
  return `#${d.rule.index + 1} ${d.rule.kind} ${d.rule.pattern}${where}`;
}

function verdictCell(d: Decision): string {
  if (d.wouldDeny) return 'allow (would deny)';
  return d.verdict;
}

export function runCheck(dests: string[], options: CheckOptions, io: Io): number {
  if (dests.length === 0)
    throw new UsageError(
      'give at least one destination, e.g. "egress check --policy p.yaml github.com"',
    );
  const parsed: DestinationArg[] = dests.map((d) => {
    const r = parseDestinationArg(d);
    if (!r.ok) throw new UsageError(`invalid destination: ${r.error}`);
    return r.value;
  });
  const loaded = loadPolicyFromOptions(options);
  const compiled = compilePolicy(loaded.policy, { ecosystemExtras: loaded.extras });
  if (options.json) {
    io.out(JSON.stringify(checkReport(compiled, parsed), null, 2) + '\n');
    return EXIT_OK;
  }
  const decisions = parsed.map((dest) => ({ dest, decision: decide(compiled, dest) }));
  const p = loaded.policy;
  io.out(`policy "${p.name}" (${p.mode}, default ${p.default}, version ${compiled.version})\n`);
  const rows = decisions.map(({ dest, decision }) => [
    // Show what an odd spelling (0x7f.1, bücher.de) was normalised to.
    dest.input.includes(decision.destination.host)
      ? dest.input
      : `${dest.input} (${decision.destination.host})`,
    `${decision.destination.port}/${decision.destination.transport}`,
    verdictCell(decision),
    decision.reason,
    ruleCell(decision),
  ]);
  io.out(renderTable(['DESTINATION', 'PORT', 'VERDICT', 'REASON', 'RULE'], rows));
  if (options.explain) for (const { decision } of decisions) io.out(`  ${explain(decision)}\n`);
  return EXIT_OK;
}
