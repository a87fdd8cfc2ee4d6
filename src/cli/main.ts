/**
 * The egress command line (DESIGN.md section 6). Commands are thin: they parse arguments, call
 * the policy engine or the data plane, and print. Exit codes: 0 done, 1 runtime failure,
 * 2 invalid input.
 */
import { Command, CommanderError, Option } from 'commander';
import { FORMAT_IDS } from '../policy/formats/types.js';
import { formatDiagnostic, PolicyError } from '../policy/source/diagnostics.js';
import type { CaExportOptions } from './commands/ca.js';
import type { ProxyCommandOptions } from './commands/proxy.js';
import type { RunCommandOptions } from './commands/run.js';
import type { SpawnedBridge } from '../dataplane/sandbox/launcher.js';
import { EXIT_INVALID, EXIT_OK, EXIT_RUNTIME, RuntimeFailure, UsageError } from './errors.js';
import { exitQuietlyOnBrokenPipe, processIo, type Io } from './io.js';
import { register as registerServe } from './commands/serve.js';
import type { PolicyOptions } from './load-policy.js';

const VERSION = '0.1.0';

function policyOptions(cmd: Command, required = true): Command {
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

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function buildProgram(io: Io, setExit: (code: number) => void, early: EarlyStart): Command {
  const program = new Command('egress')
    .description(
      'Control and record the outbound network traffic of workspaces, CI jobs, sandboxes and AI agents.',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run "egress help" for usage)');

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
    .action(async (dests: string[], opts: PolicyOptions & { json?: boolean; explain?: boolean }) =>
      setExit((await import('./commands/check.js')).runCheck(dests, opts, io)),
    );

  policyOptions(program.command('lint'))
    .description('validate a policy: FILE:LINE:COL messages; exit 0 valid, 2 invalid')
    .action(async (opts: PolicyOptions) =>
      setExit((await import('./commands/lint.js')).runLint(opts, io)),
    );

  policyOptions(program.command('import'), false)
    .description('print a policy of another format as native YAML')
    .argument('<file>', 'the policy file to convert')
    .action(async (file: string, opts: PolicyOptions) =>
      setExit((await import('./commands/import.js')).runImport(file, opts, io)),
    );

  policyOptions(program.command('summary'))
    .description('what the policy allows and blocks, in words')
    .action(async (opts: PolicyOptions) =>
      setExit((await import('./commands/summary.js')).runSummary(opts, io)),
    );

  policyOptions(program.command('proxy'), false)
    .description('run the egress proxy (HTTP forward proxy, CONNECT tunnels) enforcing a policy')
    .requiredOption('--listen <host:port>', 'where the proxy listens, e.g. 127.0.0.1:3128')
    .option('--resolve <name=ip>', 'pin a name to an address without DNS (repeatable)', collect, [])
    .option(
      '--audit-log <file>',
      'append audit events as NDJSON (denials are on disk before the 403)',
    )
    .addOption(
      new Option('--log-level <level>', 'application log level (JSON on stderr)')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .option('--workspace <name>', 'workspace name recorded in events', 'default')
    .option('--access-hint <text>', 'how denied users ask for access (shown in 403 bodies)')
    .option('--connect-timeout <ms>', 'upstream connect timeout')
    .option('--idle-timeout <ms>', 'close connections idle this long')
    .option('--max-connections <n>', 'answer 503 beyond this many connections')
    .option(
      '--socks-listen <host:port>',
      'also accept SOCKS5 here (the --listen port sniffs it too)',
    )
    .option(
      '--transparent-listen <host:port[=port]>',
      'accept redirected connections, named by TLS SNI or Host; =PORT is their original port (repeatable)',
      collect,
      [],
    )
    .option('--state-dir <dir>', 'inspect mode: where the CA lives (default ~/.local/state/egress)')
    .option(
      '--upstream-ca <file>',
      'inspect mode: also trust this CA upstream (repeatable)',
      collect,
      [],
    )
    .option('--dns-listen <host:port>', 'also serve policy-aware DNS (UDP and TCP) here')
    .option(
      '--dns-upstream <host[:port]>',
      'DNS resolver to forward to (repeatable; default: /etc/resolv.conf)',
      collect,
      [],
    )
    .option(
      '--workspaces <file-or-dir>',
      'several workspaces, told apart by Proxy-Authorization (instead of --policy)',
    )
    .option('--default-policy <file>', 'with --workspaces: policy for clients without credentials')
    .option('--admin-listen <host:port>', 'serve /metrics (Prometheus) and /healthz here')
    .option(
      '--upstream-proxy <url>',
      'parent proxy (http://host:port) for viaUpstreamProxy destinations',
    )
    .option(
      '--drain-timeout <ms>',
      'on SIGTERM, wait this long for open connections (default 10000)',
    )
    .option(
      '--workers <n|auto>',
      'proxy processes sharing the listeners (auto: one per CPU; default 1)',
    )
    .action(async (opts: ProxyCommandOptions) =>
      setExit(await (await import('./commands/proxy.js')).runProxy(opts, io)),
    );

  policyOptions(program.command('run'), false)
    .description(
      'run a command in a sandbox whose only way out is the policy (Linux namespaces; see docs/sandbox.md)',
    )
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--resolve <name=ip>', 'pin a name to an address without DNS (repeatable)', collect, [])
    .option('--audit-log <file>', 'append audit events as NDJSON')
    .option('--quiet', 'no summary of denied destinations at the end')
    .option('--workspace <name>', 'workspace name recorded in events', 'default')
    .option(
      '--state-dir <dir>',
      "inspect mode: use this folder's workspace CA instead of a CA made for this run",
    )
    .option(
      '--upstream-ca <file>',
      'inspect mode: also trust this CA upstream (repeatable)',
      collect,
      [],
    )
    .option(
      '--dns-upstream <host[:port]>',
      'DNS resolver to forward allowed names to (repeatable; default: /etc/resolv.conf)',
      collect,
      [],
    )
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
    )
    .addOption(
      new Option('--log-level <level>', 'application log level (JSON on stderr)')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('error'),
    )
    .action(async (command: string[], opts: RunCommandOptions) =>
      setExit(await (await import('./commands/run.js')).runRun(command, opts, io, early.bridge)),
    );

  program
    .command('ca')
    .description('the inspection CA that inspect mode signs its certificates with')
    .command('export')
    .description('print the CA certificate (PEM) for clients to trust; creates the CA if absent')
    .option('--state-dir <dir>', 'where the CA lives (default ~/.local/state/egress)')
    .option('--workspace <name>', 'whose CA (one per workspace)', 'default')
    .action(async (opts: CaExportOptions) =>
      setExit(await (await import('./commands/ca.js')).runCaExport(opts, io)),
    );

  program
    .command('schema')
    .description('print the JSON Schema of the native policy format (for editors)')
    .action(async () => setExit((await import('./commands/schema.js')).runSchema(io)));

  registerServe(program, io, setExit);
  return program;
}

/** Work bin/egress started before loading the CLI (the sandbox bridge for `run`). */
export interface EarlyStart {
  bridge?: SpawnedBridge;
}

export async function main(
  argv: string[],
  io: Io = processIo,
  early: EarlyStart = {},
): Promise<number> {
  let code = EXIT_OK;
  if (io === processIo) exitQuietlyOnBrokenPipe();
  const program = buildProgram(io, (c) => (code = c), early);
  let policyArgs: PolicyOptions = {};
  program.hook('preAction', (_this, action) => {
    policyArgs = action.opts() as PolicyOptions;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return EXIT_OK;
      return EXIT_INVALID;
    }
    if (err instanceof RuntimeFailure) {
      io.err(`egress: ${err.message}\n`);
      return EXIT_RUNTIME;
    }
    if (err instanceof UsageError) {
      io.err(`egress: ${err.message}\n`);
      return EXIT_INVALID;
    }
    if (err instanceof PolicyError) {
      for (const d of err.diagnostics) io.err(formatDiagnostic(d) + '\n');
      const hint = (await import('./load-policy.js')).formatHint(err, policyArgs);
      if (hint) io.err(`egress: ${hint}\n`);
      return EXIT_INVALID;
    }
    io.err(`egress: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT_RUNTIME;
  }
}
