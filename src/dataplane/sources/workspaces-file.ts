/**
 * `egress proxy --workspaces FILE_OR_DIR`: several workspaces on one proxy, told apart by
 * Proxy-Authorization (user = workspace name, password = its token).
 *
 * A file:
 *
 *   workspaces:
 *     - name: team-a
 *       tokenFile: team-a.token     # or token: "..." (paths are relative to this file)
 *       policy: team-a.yaml
 *       from: sds                   # optional, default native
 *       role: ci                    # optional (smokescreen)
 *
 * A folder: every NAME.yaml / NAME.yml / NAME.json is the policy of workspace NAME (format from
 * --from, default native), and the file `tokens` maps each NAME to its token (YAML: `NAME: TOKEN`).
 *
 * Every mistake is a PolicyError pointing at FILE:LINE:COL. Loading is all or nothing, so a
 * reload with one broken workspace keeps every previous workspace.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import { compilePolicy } from '../../policy/index.js';
import { FORMAT_IDS, isFormatId } from '../../policy/formats/index.js';
import { PolicyError, type Diagnostic, type Path } from '../../policy/source/diagnostics.js';
import { SourceDocument } from '../../policy/source/document.js';
import { Reporter } from '../../policy/source/reporter.js';
import { didYouMean } from '../../policy/source/suggest.js';
import { validateWithSchema } from '../../policy/source/validate.js';
import type { WorkspaceEntry } from '../proxy/client-identity.js';
import { ConfigError } from '../errors.js';
import { loadPolicyFromOptions } from './policy-file.js';

const WORKSPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const POLICY_EXTENSIONS = ['.yaml', '.yml', '.json'];
export const TOKENS_FILE = 'tokens';

const workspaceSchema = z.strictObject({
  name: z
    .string()
    .regex(WORKSPACE_NAME, 'letters, digits, ".", "_" and "-", starting with a letter or digit'),
  token: z.string().min(1).optional(),
  tokenFile: z.string().min(1).optional(),
  policy: z.string().min(1),
  from: z.string().optional(),
  role: z.string().optional(),
});
const workspacesFileSchema = z.strictObject({ workspaces: z.array(workspaceSchema).min(1) });
const tokensFileSchema = z.record(z.string(), z.string().min(1));

interface PendingWorkspace {
  name: string;
  token: string;
  policy: string;
  from?: string;
  role?: string;
  /** Where the entry is written, for errors about its policy. */
  path: Path;
}

export interface WorkspacesOptions {
  /** Format of the policies in folder form. */
  from?: string;
  hostRegistries?: boolean;
}

/** Reads and compiles every workspace; throws PolicyError or ConfigError, never half a result. */
export function loadWorkspaces(target: string, options: WorkspacesOptions = {}): WorkspaceEntry[] {
  if (!existsSync(target)) throw new ConfigError(`--workspaces "${target}" does not exist`);
  return statSync(target).isDirectory() ? fromFolder(target, options) : fromFile(target, options);
}

function open(file: string): Reporter {
  const text = readFileSync(file, 'utf8');
  const { doc, diagnostics } = SourceDocument.parse(text, { file });
  if (!doc || diagnostics.some((d) => d.severity === 'error')) throw new PolicyError(diagnostics);
  return new Reporter(doc);
}

function fromFile(file: string, options: WorkspacesOptions): WorkspaceEntry[] {
  const reporter = open(file);
  const raw = validateWithSchema(workspacesFileSchema, reporter);
  reporter.throwIfErrors();
  const base = dirname(file);
  const seen = new Set<string>();
  const pending: PendingWorkspace[] = [];
  raw!.workspaces.forEach((w, i) => {
    const path: Path = ['workspaces', i];
    if (seen.has(w.name))
      reporter.error(
        [...path, 'name'],
        `workspace "${w.name}" is listed twice`,
        'give each workspace one entry',
      );
    seen.add(w.name);
    if ((w.token === undefined) === (w.tokenFile === undefined)) {
      reporter.error(
        path,
        `workspace "${w.name}" needs exactly one of "token" or "tokenFile"`,
        'prefer "tokenFile: NAME.token" so the secret stays out of this file',
      );
      return;
    }
    if (w.from !== undefined && !isFormatId(w.from)) {
      const guess = didYouMean(w.from, FORMAT_IDS);
      reporter.error(
        [...path, 'from'],
        `unknown format "${w.from}"`,
        guess ?? `one of ${FORMAT_IDS.join(', ')}`,
      );
      return;
    }
    const policy = resolve(base, w.policy);
    if (!existsSync(policy) || statSync(policy).isDirectory()) {
      reporter.error(
        [...path, 'policy'],
        `policy file "${w.policy}" does not exist (looked for ${policy})`,
      );
      return;
    }
    const token =
      w.token ?? readToken(resolve(base, w.tokenFile!), reporter, [...path, 'tokenFile']);
    if (token === undefined) return;
    pending.push({
      name: w.name,
      token,
      policy,
      path,
      ...(w.from !== undefined ? { from: w.from } : {}),
      ...(w.role !== undefined ? { role: w.role } : {}),
    });
  });
  reporter.throwIfErrors();
  return compileAll(pending, options, reporter);
}

function readToken(file: string, reporter: Reporter, path: Path): string | undefined {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    reporter.error(
      path,
      `cannot read the token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
    return undefined;
  }
  if (!token || /\s/.test(token)) {
    reporter.error(path, `the token file ${file} must hold one token (no spaces or line breaks)`);
    return undefined;
  }
  return token;
}

function fromFolder(dir: string, options: WorkspacesOptions): WorkspaceEntry[] {
  const tokensPath = join(dir, TOKENS_FILE);
  if (!existsSync(tokensPath))
    throw new ConfigError(
      `--workspaces folder "${dir}" has no "${TOKENS_FILE}" file; write one line "NAME: TOKEN" per workspace`,
    );
  const reporter = open(tokensPath);
  const tokens = validateWithSchema(tokensFileSchema, reporter);
  reporter.throwIfErrors();
  const policies = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    const ext = extname(name);
    if (!POLICY_EXTENSIONS.includes(ext) || name.startsWith('.')) continue;
    const workspace = basename(name, ext);
    if (policies.has(workspace))
      throw new ConfigError(`workspace "${workspace}" has two policy files in "${dir}"; keep one`);
    policies.set(workspace, join(dir, name));
  }
  const pending: PendingWorkspace[] = [];
  for (const [name, token] of Object.entries(tokens!)) {
    if (!WORKSPACE_NAME.test(name))
      reporter.error(
        [name],
        `"${name}" is not a workspace name (letters, digits, ".", "_", "-")`,
        undefined,
        { key: true },
      );
    else if (!policies.has(name))
      reporter.error(
        [name],
        `workspace "${name}" has a token but no policy file`,
        `add ${name}.yaml next to ${TOKENS_FILE}`,
        { key: true },
      );
    else
      pending.push({
        name,
        token,
        policy: policies.get(name)!,
        path: [name],
        ...(options.from ? { from: options.from } : {}),
      });
  }
  for (const name of policies.keys())
    if (!(name in tokens!))
      reporter.error(
        [],
        `the policy file for workspace "${name}" has no token`,
        `add "${name}: TOKEN" to ${TOKENS_FILE}`,
      );
  reporter.throwIfErrors();
  return compileAll(pending, options, reporter);
}

/** Loads each policy; every policy's own errors (FILE:LINE:COL in that file) are reported together. */
function compileAll(
  pending: PendingWorkspace[],
  options: WorkspacesOptions,
  reporter: Reporter,
): WorkspaceEntry[] {
  const errors: Diagnostic[] = [];
  const entries: WorkspaceEntry[] = [];
  for (const w of pending) {
    try {
      const loaded = loadPolicyFromOptions({
        policy: w.policy,
        ...(w.from !== undefined ? { from: w.from } : {}),
        ...(w.role !== undefined ? { role: w.role } : {}),
        ...(options.hostRegistries === false ? { hostRegistries: false } : {}),
      });
      entries.push({
        workspace: w.name,
        token: w.token,
        compiled: compilePolicy(loaded.policy, { ecosystemExtras: loaded.extras }),
      });
    } catch (err) {
      if (err instanceof PolicyError) errors.push(...err.diagnostics);
      else {
        reporter.error(w.path, `workspace "${w.name}": ${(err as Error).message}`);
      }
    }
  }
  errors.push(...reporter.diagnostics);
  if (errors.some((d) => d.severity === 'error')) throw new PolicyError(errors);
  return entries;
}
