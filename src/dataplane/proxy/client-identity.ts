/**
 * Who is asking: which workspace a connection belongs to, and so which policy applies. Either
 * one policy for the whole listener, or several workspaces on one proxy told apart by
 * Proxy-Authorization (user = workspace, password = its token).
 */
import { timingSafeEqual } from 'node:crypto';
import type { CompiledPolicy } from '../../policy/index.js';
import type { ClientContext } from '../../protocol/audit-event.js';

export type Identification =
  | { ok: true; client: ClientContext; compiled: CompiledPolicy | null }
  | {
      ok: false;
      status: 407;
      reason: 'auth_required' | 'auth_invalid';
      message: string;
      client: ClientContext;
    };

export interface PolicyProvider {
  /** Identifies the client of one request. */
  identify(proxyAuthorization: string | undefined, address: string | null): Identification;
  /** Workspace names and their policies, for /healthz and logs. */
  describe(): Array<{ workspace: string; policy: string }>;
}

/** Every client of the listener gets the same policy (one workspace). */
export class ListenerPolicy implements PolicyProvider {
  private current: CompiledPolicy;

  constructor(
    compiled: CompiledPolicy,
    private readonly workspace: string,
    private readonly session: string | null = null,
  ) {
    this.current = compiled;
  }

  /** Atomically replaces the policy (SIGHUP); open connections keep the one they started with. */
  replace(compiled: CompiledPolicy): void {
    this.current = compiled;
  }

  get compiled(): CompiledPolicy {
    return this.current;
  }

  identify(_auth: string | undefined, address: string | null): Identification {
    return {
      ok: true,
      compiled: this.current,
      client: { workspace: this.workspace, session: this.session, user: null, address },
    };
  }

  describe(): Array<{ workspace: string; policy: string }> {
    return [{ workspace: this.workspace, policy: this.current.policy.name }];
  }
}

export interface WorkspaceEntry {
  workspace: string;
  token: string;
  compiled: CompiledPolicy;
}

/** Parses `Proxy-Authorization: Basic base64(user:password)`. */
export function parseBasicAuth(
  header: string | undefined,
): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The policy for clients that send no credentials at all (`--default-policy`). */
export interface DefaultWorkspace {
  workspace: string;
  compiled: CompiledPolicy;
}

/** Several workspaces on one proxy, each with its token and policy. */
export class WorkspacePolicies implements PolicyProvider {
  private entries: Map<string, WorkspaceEntry>;
  private fallback: DefaultWorkspace | undefined;

  constructor(entries: WorkspaceEntry[], fallback?: DefaultWorkspace) {
    this.entries = new Map(entries.map((e) => [e.workspace, e]));
    this.fallback = fallback;
  }

  /** Atomically replaces every workspace (SIGHUP); open connections keep their policy. */
  replace(entries: WorkspaceEntry[], fallback?: DefaultWorkspace): void {
    this.entries = new Map(entries.map((e) => [e.workspace, e]));
    this.fallback = fallback;
  }

  identify(auth: string | undefined, address: string | null): Identification {
    const anonymous: ClientContext = { workspace: null, session: null, user: null, address };
    const creds = parseBasicAuth(auth);
    if (!creds && this.fallback && auth === undefined) {
      return {
        ok: true,
        compiled: this.fallback.compiled,
        client: { ...anonymous, workspace: this.fallback.workspace },
      };
    }
    if (!creds) {
      return {
        ok: false,
        status: 407,
        reason: 'auth_required',
        client: anonymous,
        message:
          'this proxy serves several workspaces: send Proxy-Authorization with user = workspace and password = its token',
      };
    }
    const entry = this.entries.get(creds.user);
    if (!entry || !sameSecret(entry.token, creds.password)) {
      return {
        ok: false,
        status: 407,
        reason: 'auth_invalid',
        client: { ...anonymous, user: creds.user },
        message: `the workspace "${creds.user}" or its token is not valid`,
      };
    }
    return {
      ok: true,
      compiled: entry.compiled,
      client: { workspace: entry.workspace, session: null, user: creds.user, address },
    };
  }

  describe(): Array<{ workspace: string; policy: string }> {
    const list = [...this.entries.values()].map((e) => ({
      workspace: e.workspace,
      policy: e.compiled.policy.name,
    }));
    if (this.fallback)
      list.push({ workspace: this.fallback.workspace, policy: this.fallback.compiled.policy.name });
    return list;
  }
}
