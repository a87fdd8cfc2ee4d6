/**
 * Flags that more than one command takes, each declared once here: the policy group (every
 * command that reads a policy) and the runtime group that `egress proxy` and `egress run`
 * share. A verb may word a description for its own context; the flag, its parser and its
 * default are the same everywhere.
 */
import { Option, type Command } from 'commander';
import { FORMAT_IDS } from '../policy/formats/types.js';
import type { LogLevel } from '../dataplane/log.js';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** --policy, --from, --role, --policy-store, --cluster-policy, --no-host-registries. */
export function policyOptions(cmd: Command, required = true): Command {
  const policy = new Option('--policy <file>', 'policy file, or builtin:monitor|restrict|inspect');
  if (required) policy.makeOptionMandatory();
  return cmd
    .addOption(policy)
    .addOption(new Option('--from <format>', 'format of the policy file').choices(FORMAT_IDS))
    .option('--role <name>', 'smokescreen: the service role; harden-runner: the job id')
    .option('--policy-store <dir>', 'harden-runner: folder of named policies (policy: NAME)')
    .option(
      '--cluster-policy <file>',
      'harden-runner: cluster-level policy that a job-level one overrides',
    )
    .option(
      '--no-host-registries',
      "do not join this machine's npm/pip/apt registries to ecosystems",
    );
}

/** The values of the runtime flags `egress proxy` and `egress run` share. */
export interface RuntimeFlags {
  resolve?: string[];
  auditLog?: string;
  logLevel?: LogLevel;
  workspace?: string;
  stateDir?: string;
  upstreamCa?: string[];
  dnsUpstream?: string[];
}

/** The runtime flags, one adder each, so a verb places them among its own flags. */
export const runtimeOptions = {
  resolve: (cmd: Command): Command =>
    cmd.option(
      '--resolve <name=ip>',
      'pin a name to an address without DNS (repeatable)',
      collect,
      [],
    ),
  auditLog: (cmd: Command, description = 'append audit events as NDJSON'): Command =>
    cmd.option('--audit-log <file>', description),
  logLevel: (cmd: Command, defaultLevel: LogLevel): Command =>
    cmd.addOption(
      new Option('--log-level <level>', 'application log level (JSON on stderr)')
        .choices(['debug', 'info', 'warn', 'error'])
        .default(defaultLevel),
    ),
  workspace: (cmd: Command, description = 'workspace name recorded in events'): Command =>
    cmd.option('--workspace <name>', description, 'default'),
  stateDir: (cmd: Command, description: string): Command =>
    cmd.option('--state-dir <dir>', description),
  upstreamCa: (cmd: Command): Command =>
    cmd.option(
      '--upstream-ca <file>',
      'inspect mode: also trust this CA upstream (repeatable)',
      collect,
      [],
    ),
  dnsUpstream: (cmd: Command, description: string): Command =>
    cmd.option('--dns-upstream <host[:port]>', description, collect, []),
};
