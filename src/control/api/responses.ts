/** Response declarations shared by the routes (what the OpenAPI document lists). */
import type { z } from '@hono/zod-openapi';
import { PROBLEM_CONTENT_TYPE, statusTitle } from '../http/problem.js';
import { ProblemSchema } from './schemas.js';

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function problems(...statuses: number[]) {
  const out: Record<
    number,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  > = {};
  for (const s of [401, ...statuses])
    out[s] = {
      description: statusTitle(s),
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
    };
  return out;
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

export const BEARER = [{ bearer: [] as string[] }];
