/**
 * Deciders: the DeciderClient the gate asks when a `decide` rule matches (DESIGN.md 3.3).
 *
 * Looks the answer up in the cache (per workspace per host, when the decider says `cache`), else
 * calls the webhook or the JS module under the decider's deadline. An answer becomes a decision
 * (`decider_allow` / `decider_deny`, rule = the decide rule); a timeout, an error or a malformed
 * answer becomes a deny (`decider_timeout`, `decider_error`, `decider_bad_return`) whatever the
 * policy default, with a `decider.failure` event. In monitor mode that deny is recorded as
 * wouldDeny and the request goes through, as every other monitor-mode deny does.
 */
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import type { DeciderSettings } from '../../policy/model.js';
import type { ClientContext } from '../../protocol/audit-event.js';
import type { EventBus } from '../events/event-bus.js';
import { deciderAnswered, deciderFailed } from '../../policy/engine/refusals.js';
import type { DeciderClient, RequestTarget } from './decider.js';
import { readAnswer, type DeciderAnswer } from './answer.js';
import { AnswerCache, DEFAULT_CACHE_ENTRIES, DEFAULT_CACHE_TTL_MS } from './answer-cache.js';
import { DeciderFailure, withDeadline } from './failure.js';
import { ModuleLoader } from './js-module.js';
import { callWebhook, type WebhookRequest } from './webhook.js';

export type DeciderKind = 'webhook' | 'module';
export type DeciderOutcome = 'allow' | 'deny' | DeciderFailure['reason'];

export interface DecidersOptions {
  bus: EventBus;
  log?: Logger;
  cacheTtlMs?: number;
  maxCacheEntries?: number;
  /** Folder that relative `module` paths start from; default: the policy file's folder. */
  baseDirOf?: (compiled: CompiledPolicy) => string;
  /** Called after every real call (not cache hits): for the latency histogram. */
  onCall?: (kind: DeciderKind, outcome: DeciderOutcome, seconds: number) => void;
}

export class Deciders implements DeciderClient {
  private readonly cache: AnswerCache;
  private readonly modules = new ModuleLoader();

  constructor(private readonly options: DecidersOptions) {
    this.cache = new AnswerCache(
      options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS,
      options.maxCacheEntries ?? DEFAULT_CACHE_ENTRIES,
    );
  }

  /** Forgets every cached answer (after a policy reload the deciders may have changed). */
  clearCache(): void {
    this.cache.clear();
  }

  async decide(
    compiled: CompiledPolicy,
    pending: Decision,
    client: ClientContext,
    target: RequestTarget,
    requestId: string | null = null,
  ): Promise<Decision> {
    const settings = pending.decider;
    if (!settings)
      return this.fail(
        compiled,
        pending,
        client,
        requestId,
        new DeciderFailure('decider_error', 'no decider is configured for this rule'),
      );
    const kind: DeciderKind = settings.url ? 'webhook' : 'module';
    const key = AnswerCache.key(
      settings.url ?? settings.module ?? '',
      client.workspace,
      pending.destination.host,
    );
    const cached = settings.cache ? this.cache.get(key) : undefined;
    if (cached) return answered(compiled, pending, cached);

    const started = performance.now();
    try {
      const raw = await this.call(kind, settings, compiled, pending, client, target);
      const answer = readAnswer(raw);
      if (!answer)
        throw new DeciderFailure(
          'decider_bad_return',
          `the decider answered ${describe(raw)}; expected {"decision": "allow"|"deny", "reason": "..."}`,
        );
      this.options.onCall?.(kind, answer.decision, seconds(started));
      if (settings.cache) this.cache.set(key, answer);
      this.options.log?.debug(
        { host: pending.destination.host, decision: answer.decision, reason: answer.reason },
        'decider answered',
      );
      return answered(compiled, pending, answer);
    } catch (err) {
      const failure =
        err instanceof DeciderFailure
          ? err
          : new DeciderFailure(
              'decider_error',
              `the decider failed: ${(err as Error)?.message ?? String(err)}`,
            );
      this.options.onCall?.(kind, failure.reason, seconds(started));
      return this.fail(compiled, pending, client, requestId, failure);
    }
  }

  private call(
    kind: DeciderKind,
    settings: DeciderSettings,
    compiled: CompiledPolicy,
    pending: Decision,
    client: ClientContext,
    target: RequestTarget,
  ): Promise<unknown> {
    const body = requestBody(pending, client, target, settings);
    if (kind === 'webhook') {
      const controller = new AbortController();
      const what = `the decider webhook ${settings.url}`;
      return withDeadline(
        callWebhook(settings.url!, body, controller.signal),
        settings.timeoutMs,
        what,
        () => controller.abort(new DeciderFailure('decider_timeout', `${what} timed out`)),
      );
    }
    const baseDir = this.options.baseDirOf?.(compiled) ?? policyFolder(compiled);
    const work = this.modules.load(settings.module!, baseDir).then((decide) => {
      const { request, ...ctx } = body;
      // Sync or async; a throw inside becomes a rejected promise either way.
      return decide(ctx, request);
    });
    return withDeadline(work, settings.timeoutMs, `the decider module ${settings.module}`);
  }

  private async fail(
    compiled: CompiledPolicy,
    pending: Decision,
    client: ClientContext,
    requestId: string | null,
    failure: DeciderFailure,
  ): Promise<Decision> {
    const monitor = pending.mode === 'monitor';
    const decision = deciderFailed(compiled, pending, failure.code);
    this.options.log?.warn({ reason: failure.reason, error: failure.message }, 'decider failed');
    await this.options.bus
      .emit({
        type: 'decider.failure',
        requestId,
        client,
        decision,
        description: `${failure.message}; ${monitor ? 'monitor mode lets the request through (would deny)' : 'denied (fail closed)'}.`,
      })
      .catch(() => undefined);
    return decision;
  }
}

function answered(compiled: CompiledPolicy, pending: Decision, answer: DeciderAnswer): Decision {
  const reason = answer.reason ? String(answer.reason).slice(0, 500) : undefined;
  return deciderAnswered(compiled, pending, answer.decision, reason);
}

/** What the decider is told: who asks, under which policy and rule, for what. */
export function requestBody(
  pending: Decision,
  client: ClientContext,
  target: RequestTarget,
  settings: DeciderSettings,
): WebhookRequest {
  const rule = pending.rule;
  return {
    workspace: client.workspace,
    session: client.session,
    user: client.user,
    policy: pending.policy,
    request: {
      host: pending.destination.host,
      port: pending.destination.port,
      transport: pending.destination.transport,
      scheme: target.scheme ?? null,
      method: target.method ?? null,
      path: target.path ?? null,
    },
    rule: rule
      ? { index: rule.index, kind: rule.kind, source: rule.source, pattern: rule.pattern }
      : null,
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
  };
}

function policyFolder(compiled: CompiledPolicy): string {
  const file = compiled.policy.origin?.file;
  return file && !file.startsWith('builtin:') ? dirname(file) : process.cwd();
}

function seconds(started: number): number {
  return (performance.now() - started) / 1000;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
