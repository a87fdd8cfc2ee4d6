/**
 * What every route handler gets: the dependencies buildApp was given, and per request the
 * authenticated caller. Hono's context carries the per-request part (`c.var`).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { HttpBindings } from '@hono/node-server';
import type { FailedLoginLimiter } from './auth/rate-limit.js';
import type { EventHub } from './events/event-hub.js';
import type { ErrorLogger } from './http/errors.js';
import type { Authorizer } from './rbac/authorizer.js';
import type { Store } from './store/store.js';

/** Milliseconds since the epoch; a function so tests can move time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface ControlDeps {
  store: Store;
  /** Newly committed audit events, for the live stream. */
  events: EventHub;
  clock: Clock;
  limiter: FailedLoginLimiter;
  log: ErrorLogger;
  /** Package registries this machine uses (DESIGN.md 4): join the default restrict allow list. */
  hostRegistries: readonly string[];
  /** Host registries by ecosystem, for formats that expand ecosystem identifiers. */
  ecosystemExtras: Readonly<Record<string, readonly string[]>>;
}

export interface RequestVars {
  auth: Authorizer;
  /** The caller's address (the socket's; proxies in front are not trusted by default). */
  clientAddress: string;
}

export type ApiEnv = { Bindings: Partial<HttpBindings>; Variables: RequestVars };
export type ApiApp = OpenAPIHono<ApiEnv>;
