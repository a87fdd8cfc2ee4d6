/**
 * The built-in policies: the three Secure Developer Spaces defaults created with every project
 * (DESIGN.md section 4). Reachable from the command line as `builtin:monitor`,
 * `builtin:restrict` and `builtin:inspect`.
 */
import { emptyPolicy, type Mode, type Policy, type Selector } from './model.js';

/**
 * The SDS starter allow list. SDS shows "*.pypi.org" for a domain entry with includeSubdomains,
 * and pip needs pypi.org itself, so `*.x` here means x and every subdomain, not the native
 * one-label wildcard.
 */
export const STARTER_ALLOW_LIST: readonly string[] = [
  '*.ubuntu.com',
  '*.nodesource.com',
  '*.yarnpkg.com',
  '*.npm.im',
  '*.npm.me',
  '*.npm.red',
  'python.org',
  '*.pypi.org',
  '*.pythonhosted.org',
  'open-vsx.org',
  'opensuse.org',
  'sourceforge.net',
  'virtualbox.org',
  '*.windows.net',
];

export const BUILTIN_NAMES = {
  monitor: 'Monitor Traffic (default)',
  restrict: 'Restrict Traffic (default, expert)',
  inspect: 'Inspect Traffic (default, expert)',
} as const satisfies Record<Mode, string>;

function starterSelectors(hostRegistries: readonly string[]): Selector[] {
  const starter = STARTER_ALLOW_LIST.map((entry): Selector =>
    entry.startsWith('*.') ? { host: entry.slice(2), includeSubdomains: true } : { host: entry },
  );
  const registries = hostRegistries.map((host): Selector => ({ host }));
  return [...starter, ...registries];
}

/**
 * @param hostRegistries package registry hosts this machine is configured to use (npm, pip,
 *   apt), found by the data plane; they join the restrict and inspect allow lists.
 */
export function builtinPolicy(mode: Mode, hostRegistries: readonly string[] = []): Policy {
  const policy = emptyPolicy(BUILTIN_NAMES[mode], mode);
  policy.origin = { file: `builtin:${mode}`, format: 'builtin' };
  if (mode === 'monitor') {
    policy.description =
      'Logs all traffic and blocks nothing: the starting point for building an allow list.';
    policy.default = 'allow';
    return policy;
  }
  policy.description =
    mode === 'restrict'
      ? 'Blocks all traffic except the starter allow list of common package and OS mirrors.'
      : 'Restrict, plus TLS inspection of allowed traffic.';
  policy.rules = [
    { kind: 'allow', name: 'starter allow list', selectors: starterSelectors(hostRegistries) },
  ];
  return policy;
}

export function isBuiltinRef(ref: string): boolean {
  return /^builtin:(monitor|restrict|inspect)$/.test(ref);
}

export function builtinModeOf(ref: string): Mode | undefined {
  const m = /^builtin:(monitor|restrict|inspect)$/.exec(ref);
  return m ? (m[1] as Mode) : undefined;
}
