/**
 * Finds the package registries and mirrors this machine is configured to use, so they can join
 * the matching ecosystem identifier (npm → node, pip → python, apt → linux-distros). Users behind
 * a corporate mirror then get exactly that mirror allowed, with no extra rule.
 *
 * Reads configuration files only (never runs npm or pip: that would cost hundreds of ms).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RegistrySources {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  cwd: string;
  /** Returns undefined when the file does not exist or cannot be read. */
  readFile: (path: string) => string | undefined;
  listDir: (path: string) => string[];
}

export interface HostRegistries {
  /** Ecosystem identifier → registry hosts. */
  byEcosystem: Record<string, string[]>;
  /** Every host, for the built-in restrict policy. */
  all: string[];
}

const NPM_DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.hostname.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

function npmRegistries(src: RegistrySources): string[] {
  const urls: string[] = [];
  const fromEnv = src.env.npm_config_registry ?? src.env.NPM_CONFIG_REGISTRY;
  if (fromEnv) urls.push(fromEnv);
  const prefix = src.env.npm_config_prefix ?? src.env.PREFIX;
  const files = [
    join(src.cwd, '.npmrc'),
    src.env.NPM_CONFIG_USERCONFIG ?? join(src.home, '.npmrc'),
    ...(prefix ? [join(prefix, 'etc', 'npmrc')] : []),
    '/etc/npmrc',
    '/usr/etc/npmrc',
  ];
  for (const file of files) {
    const text = src.readFile(file);
    if (!text) continue;
    for (const line of text.split('\n')) {
      const m = /^\s*(?:@[^:]+:)?registry\s*=\s*(\S+)/.exec(line);
      if (m) urls.push(m[1]!);
    }
  }
  // npm always uses a registry: with none configured it is the public one.
  if (urls.length === 0) urls.push(NPM_DEFAULT_REGISTRY);
  return urls.flatMap((u) => hostOf(u) ?? []);
}

function pipRegistries(src: RegistrySources): string[] {
  const urls: string[] = [];
  for (const key of ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL']) {
    const v = src.env[key];
    if (v) urls.push(...v.split(/\s+/));
  }
  const files = [
    '/etc/pip.conf',
    '/etc/xdg/pip/pip.conf',
    join(src.home, '.pip', 'pip.conf'),
    join(src.home, '.config', 'pip', 'pip.conf'),
    ...(src.env.PIP_CONFIG_FILE ? [src.env.PIP_CONFIG_FILE] : []),
  ];
  for (const file of files) {
    const text = src.readFile(file);
    if (!text) continue;
    let continuing = false;
    for (const line of text.split('\n')) {
      const m = /^\s*(?:extra-)?index-url\s*=\s*(.*)$/.exec(line);
      if (m) {
        urls.push(...m[1]!.split(/\s+/));
        continuing = true;
      } else if (continuing && /^\s+\S/.test(line)) urls.push(...line.trim().split(/\s+/));
      else continuing = false;
    }
  }
  return urls.flatMap((u) => hostOf(u) ?? []);
}

function aptRegistries(src: RegistrySources): string[] {
  const urls: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  const files = [
    '/etc/apt/sources.list',
    ...src
      .listDir(dir)
      .filter((f) => f.endsWith('.list') || f.endsWith('.sources'))
      .map((f) => join(dir, f)),
  ];
  for (const file of files) {
    const text = src.readFile(file);
    if (!text) continue;
    for (const line of text.split('\n')) {
      const deb = /^\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      if (deb) urls.push(deb[1]!);
      const uris = /^\s*URIs:\s*(.+)$/i.exec(line);
      if (uris) urls.push(...uris[1]!.trim().split(/\s+/));
    }
  }
  return urls.flatMap((u) => hostOf(u) ?? []);
}

export function systemRegistrySources(): RegistrySources {
  return {
    env: process.env,
    home: homedir(),
    cwd: process.cwd(),
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    listDir: (path) => {
      try {
        return readdirSync(path);
      } catch {
        return [];
      }
    },
  };
}

export function findHostRegistries(src: RegistrySources = systemRegistrySources()): HostRegistries {
  const byEcosystem: Record<string, string[]> = {
    node: [...new Set(npmRegistries(src))],
    python: [...new Set(pipRegistries(src))],
    'linux-distros': [...new Set(aptRegistries(src))],
  };
  for (const key of Object.keys(byEcosystem))
    if (byEcosystem[key]!.length === 0) delete byEcosystem[key];
  return { byEcosystem, all: [...new Set(Object.values(byEcosystem).flat())].sort() };
}
