/**
 * `egress run`: its flags. The sandbox (namespaces, proxy, DNS, relays) is loaded only when the
 * command runs.
 */
import type { Command } from 'commander';
import type { CliContext } from '../command.js';
import { collect, policyOptions, runtimeOptions as shared } from '../options.js';
import type { RunCommandOptions } from './run-sandbox.js';

export type { RunCommandOptions } from './run-sandbox.js';

export function register(program: Command, cli: CliContext): void {
  const cmd = policyOptions(program.command('run'), false)
    .description(
      'run a command in a sandbox whose only way out is the policy (Linux namespaces; see docs/sandbox.md)',
    )
    .argument('<command...>', 'the command and its arguments, after --');
  shared.resolve(cmd);
  shared.auditLog(cmd);
  cmd.option('--quiet', 'no summary of denied destinations at the end');
  shared.workspace(cmd);
  shared.stateDir(
    cmd,
    "inspect mode: use this folder's workspace CA instead of a CA made for this run",
  );
  shared.upstreamCa(cmd);
  shared.dnsUpstream(
    cmd,
    'DNS resolver to forward allowed names to (repeatable; default: /etc/resolv.conf)',
  );
  cmd
    .option(
      '--learn <out.yaml>',
      'run in monitor mode and write a policy allowing what the command reached',
    )
    .option(
      '--publish <[ip:]hostPort:port[/udp]>',
      "forward the host's port into the sandbox (repeatable; only what the policy's ingress allows)",
      collect,
      [],
    )
    .option('--proxy <url>', 'use this running egress proxy instead of starting one')
    .option(
      '--dns <host:port>',
      "with --proxy: the running proxy's DNS (egress proxy --dns-listen)",
    );
  shared.logLevel(cmd, 'error');
  cmd.action(async (command: string[], opts: RunCommandOptions) =>
    cli.exit(
      await (await import('./run-sandbox.js')).runRun(command, opts, cli.io, cli.early.bridge),
    ),
  );
}
