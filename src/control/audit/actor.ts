/** Who makes a change: the authenticated caller and where they called from. */
import type { Context } from 'hono';
import type { ApiEnv } from '../context.js';

export interface Actor {
  userId: string;
  userName: string;
  address: string;
}

export function actorOf(c: Context<ApiEnv>): Actor {
  const p = c.var.auth.principal;
  return { userId: p.id, userName: p.name, address: c.var.clientAddress };
}
