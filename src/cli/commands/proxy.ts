/**
 * `egress proxy`: its flags. The proxy itself (listeners, DNS, admin, workers, reload, drain)
 * is loaded only when the command runs.
 */
import type { Command } from 'commander';
import type { CliContext } from '../command.js';
import { collect, policyOptions, runtimeOptions as shared } from '../options.js';
import type { ProxyCommandOptions } from './proxy-flags.js';

export type { ProxyCommandOptions } from './proxy-flags.js';

export function register(program: Command, cli: CliContext): void {
  const cmd = policyOptions(program.command('proxy'), false)
    .description('run the egress proxy (HTTP forward proxy, CONNECT tunnels) enforcing a policy')
    .requiredOption('--listen <host:port>', 'where the proxy listens, e.g. 127.0.0.1:3128');
  shared.resolve(cmd);
  shared.auditLog(cmd, 'append audit events as NDJSON (denials are on disk before the 403)');
  shared.logLevel(cmd, 'info');
  shared.workspace(cmd);
  cmd
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
    );
  shared.stateDir(cmd, 'inspect mode: where the CA lives (default ~/.local/state/egress)');
  shared.upstreamCa(cmd);
  cmd.option('--dns-listen <host:port>', 'also serve policy-aware DNS (UDP and TCP) here');
  shared.dnsUpstream(cmd, 'DNS resolver to forward to (repeatable; default: /etc/resolv.conf)');
  cmd
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
      cli.exit(await (await import('./proxy-serve.js')).runProxy(opts, cli.io)),
    );
}
