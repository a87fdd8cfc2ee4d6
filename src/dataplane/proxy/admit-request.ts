/**
 * The judging steps shared by everything that arrives as an absolute-form HTTP request (plain
 * forwarding and upgrades): identify the client, refuse Host fronting, then ask the gate. The
 * caller answers a refusal in its own medium (a ServerResponse or a raw socket).
 */
import type { IncomingMessage } from 'node:http';
import type { Identification } from './client-identity.js';
import type { ProxyContext } from './context.js';
import type { DenyText } from './deny-response.js';
import { frontingRefusal } from './fronting.js';
import type { Admission, GateTarget } from './gate.js';
import type { ParsedTarget } from './http-forward.js';
import { authText, refusalText } from './respond.js';

export type RequestAdmission =
  | {
      ok: true;
      id: Extract<Identification, { ok: true }>;
      admission: Extract<Admission, { ok: true }>;
      query: GateTarget;
    }
  | { ok: false; refusal: DenyText };

export async function admitRequest(
  ctx: ProxyContext,
  req: IncomingMessage,
  target: ParsedTarget,
  scheme: string,
): Promise<RequestAdmission> {
  const id = ctx.policies.identify(
    req.headers['proxy-authorization'],
    req.socket.remoteAddress ?? null,
  );
  if (!id.ok) return { ok: false, refusal: authText(id) };
  const query: GateTarget = {
    host: target.host,
    port: target.port,
    transport: 'tcp',
    scheme,
    method: req.method ?? 'GET',
    path: target.path,
  };
  const fronting = await frontingRefusal(ctx, id, query, req.headers.host);
  if (fronting) return { ok: false, refusal: refusalText(fronting, ctx.accessHint) };
  const admission = await ctx.gate.admit(id.compiled, id.client, query);
  if (!admission.ok) return { ok: false, refusal: refusalText(admission, ctx.accessHint) };
  return { ok: true, id, admission, query };
}
