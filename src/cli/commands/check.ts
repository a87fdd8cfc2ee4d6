/** `egress check`: decide destinations against a policy, as a table or as JSON. */
import { compilePolicy, decide, explain, type Decision } from '../../policy/index.js';
import { parseDestinationArg, type DestinationArg } from '../../policy/destination.js';
import type { Io } from '../io.js';
import { loadPolicyFromOptions, type PolicyOptions } from '../load-policy.js';
import { renderTable } from '../table.js';
import type { PolicyTestResult } from '../../policy/policy-tests/types.js';
import { EXIT_INVALID, EXIT_OK, UsageError } from '../errors.js';
import type { Command } from 'commander';
import type { CliContext } from '../command.js';
import { policyOptions } from '../options.js';
import {
  renderTestResults,
  runOwnTests,
  testedDestinations,
  testJson,
} from './policy-tests-output.js';

export interface CheckOptions extends PolicyOptions {
  json?: boolean;
  explain?: boolean;
  /** Also check the policy's own `tests:` (in --json: one more object per test, after DESTs). */
  tests?: boolean;
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
  if (dests.length === 0 && !options.tests)
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
  const decisions = parsed.map((dest) => ({ dest, decision: decide(compiled, dest) }));
  // The policy's `tests:`: in the table whenever it has some; in --json only with --tests.
  const tests = options.tests || !options.json ? runOwnTests(loaded.policy, compiled) : [];
  const exit = tests.some((t) => !t.pass) ? EXIT_INVALID : EXIT_OK;
  if (options.json) {
    const tested = options.tests ? testedDestinations(tests) : [];
    const rows: Array<{ dest: DestinationArg; decision: Decision; test?: PolicyTestResult }> = [
      ...decisions,
      ...tested,
    ];
    const out = rows.map(({ dest, decision, test }) => ({
      ...decision,
      // `destination` is the argument as given (DESIGN.md 6); the normalised one is `target`.
      destination: dest.input,
      target: decision.destination,
      ...(dest.scheme ? { scheme: dest.scheme } : {}),
      ...(dest.path ? { path: dest.path } : {}),
      explanation: explain(decision),
      ...(test ? { test: testJson(test) } : {}),
    }));
    io.out(JSON.stringify(out, null, 2) + '\n');
    return exit;
  }
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
  if (rows.length) io.out(renderTable(['DESTINATION', 'PORT', 'VERDICT', 'REASON', 'RULE'], rows));
  if (options.explain) for (const { decision } of decisions) io.out(`  ${explain(decision)}\n`);
  if (tests.length) io.out(renderTestResults(tests));
  else if (options.tests) io.out('tests: the policy has no tests\n');
  return exit;
}

export function register(program: Command, cli: CliContext): void {
  policyOptions(program.command('check'))
    .description('decide destinations against a policy')
    .argument(
      '[dest...]',
      'host, host:port, [v6]:port, ip, scheme://host[:port][/path], tcp://host:port, udp://host:port',
    )
    .option('--json', 'print one JSON array, one object per destination')
    .option('--explain', 'add one sentence per destination')
    .option(
      '--tests',
      "also check the policy's tests: (in --json, one object per test after DESTs)",
    )
    .action((dests: string[], opts: CheckOptions) => cli.exit(runCheck(dests, opts, cli.io)));
}
