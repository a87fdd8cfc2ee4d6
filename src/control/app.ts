/**
 * The control plane's HTTP application (DESIGN.md 9.3): REST under /api/v1 with its OpenAPI 3.1
 * document generated from the same zod schemas that validate requests, the Fly.io-compatible
 * endpoints under /v1/apps, bearer authentication on everything but the document and
 * /healthz, and every error as a problem document (Fly's `{"error": …}` under /v1/apps).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { authenticate } from './auth/authenticate.js';
import { FailedLoginLimiter } from './auth/rate-limit.js';
import { systemClock, type ApiEnv, type Clock, type ControlDeps } from './context.js';
import { problemResponse, toApiError, type ErrorLogger } from './http/errors.js';
import { ApiError } from './http/problem.js';
import { validationHook } from './http/validation.js';
import { EventHub } from './events/event-hub.js';
import { MAX_BATCH_BYTES } from './events/ingest.js';
import { findConsoleDir, registerConsole } from './console/static-console.js';
import { withEventPublishing } from './events/publishing-store.js';
import { registerAssignmentRoutes } from './routes/assignments.js';
import { registerEventStreamRoute } from './routes/event-stream.js';
import { registerEventRoutes } from './routes/events.js';
import { FLY_PREFIX, flyErrorResponse, registerFlyRoutes } from './routes/fly.js';
import { registerOverviewRoutes } from './routes/overview.js';
import { registerPolicyRoutes } from './routes/policies.js';
import { registerRoleRoutes } from './routes/roles.js';
import { registerScopeRoutes } from './routes/scopes.js';
import { registerUserRoutes } from './routes/users.js';
import type { Store } from './store/store.js';

export const API_PREFIX = '/api/v1';
export const API_VERSION = '1.0.0';
/** JSON bodies (a policy source is at most 1,000,000 characters). */
const MAX_JSON_BYTES = 2 * 1024 * 1024;

export interface BuildAppOptions {
  store: Store;
  clock?: Clock;
  limiter?: FailedLoginLimiter;
  log?: ErrorLogger;
  hostRegistries?: readonly string[];
  ecosystemExtras?: Readonly<Record<string, readonly string[]>>;
  /**
   * The built web console (dist/console) served at `/`; default: found next to the running
   * code; false: no console (API only).
   */
  consoleDir?: string | false;
  /** Where committed events are published (one is made when not given). */
  events?: EventHub;
}

function newApp(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook as never });
}

function isFly(c: Context): boolean {
  return c.req.path.startsWith(FLY_PREFIX + '/');
}

const tooLarge = (max: number) => () => {
  throw new ApiError(413, 'body_too_large', `the request body is larger than ${max} bytes`);
};

export function buildApp(options: BuildAppOptions): OpenAPIHono<ApiEnv> {
  const events = options.events ?? new EventHub();
  const deps: ControlDeps = {
    store: withEventPublishing(options.store, events),
    events,
    clock: options.clock ?? systemClock,
    limiter: options.limiter ?? new FailedLoginLimiter(),
    log:
      options.log ??
      ((message, fields) =>
        process.stderr.write(JSON.stringify({ level: 'error', message, ...fields }) + '\n')),
    hostRegistries: options.hostRegistries ?? [],
    ecosystemExtras: options.ecosystemExtras ?? {},
  };
  const app = newApp();

  app.use('*', async (c, next) => {
    await next();
    c.header('x-content-type-options', 'nosniff');
    if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
  });
  app.onError((err, c) => {
    const apiError = toApiError(err, deps.log, c);
    return isFly(c) ? flyErrorResponse(apiError) : problemResponse(apiError);
  });
  app.notFound((c) => {
    const err = new ApiError(404, 'not_found', `no such endpoint: ${c.req.method} ${c.req.path}`);
    return isFly(c) ? flyErrorResponse(err) : problemResponse(err);
  });

  app.get('/healthz', async (c) => {
    await deps.store.revision();
    return c.json({ status: 'ok', store: deps.store.backend });
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from `egress serve` (admin token) or POST /api/v1/users/{user}/tokens',
  });
  app.doc31(`${API_PREFIX}/openapi.json`, {
    openapi: '3.1.0',
    info: {
      title: 'egress control plane',
      version: API_VERSION,
      description:
        'Scopes, policies, assignments, roles and the audit log of egress (DESIGN.md 9). Errors are application/problem+json (RFC 9457) with a stable `code`; under /v1/apps they are Fly.io-shaped `{"error": "…"}`.',
    },
  });

  const api = newApp();
  api.use('*', async (c, next) =>
    bodyLimit({
      maxSize: c.req.path === `${API_PREFIX}/events` ? MAX_BATCH_BYTES : MAX_JSON_BYTES,
      onError: tooLarge(c.req.path === `${API_PREFIX}/events` ? MAX_BATCH_BYTES : MAX_JSON_BYTES),
    })(c, next),
  );
  api.use('*', authenticate(deps));
  registerScopeRoutes(api, deps);
  registerPolicyRoutes(api, deps);
  registerAssignmentRoutes(api, deps);
  registerOverviewRoutes(api, deps);
  registerEventStreamRoute(api, deps);
  registerEventRoutes(api, deps);
  registerUserRoutes(api, deps);
  registerRoleRoutes(api, deps);
  app.route(API_PREFIX, api);

  const fly = newApp();
  fly.use('*', bodyLimit({ maxSize: MAX_JSON_BYTES, onError: tooLarge(MAX_JSON_BYTES) }));
  fly.use('*', authenticate(deps));
  registerFlyRoutes(fly, deps);
  app.route(FLY_PREFIX, fly);

  const consoleDir = options.consoleDir === undefined ? findConsoleDir() : options.consoleDir;
  if (consoleDir) registerConsole(app as never, consoleDir);

  return app;
}
