/**
 * Condukt sandbox network policy (Condukt.Sandbox.NetworkPolicy in tuist/condukt), rendered as
 * YAML or JSON. The struct's fields keep their names; the keyword-list rules become a list of
 * one-key mappings: `- deny: [globs]`, `- allow: [globs]`, `- decide: {...}`. A decide rule
 * carries its own settings (DESIGN.md 4); the struct's policy-wide `decide_timeout`,
 * `decision_cache`, `context_messages` and `context_metadata` are accepted as their defaults.
 */
import { z } from 'zod';

const globs = z.array(z.string());
const timeout = z
  .number()
  .int()
  .positive()
  .meta({ description: 'Milliseconds (Condukt default 5000).' });
const contextMetadata = z
  .union([z.record(z.string(), z.string()), z.array(z.string())])
  .meta({ description: 'Static metadata (key: value), or the session metadata keys to send.' });

export const conduktDecideSchema = z.strictObject({
  call: z
    .string()
    .min(1)
    .meta({ description: 'Webhook URL, or path of a JS module exporting decide(ctx, req).' }),
  timeout: timeout.optional(),
  cache: z.boolean().optional(),
  context_messages: z.number().int().min(0).optional(),
  context_metadata: contextMetadata.optional(),
});

export const conduktRuleSchema = z.strictObject({
  allow: globs.optional(),
  deny: globs.optional(),
  decide: z.union([z.string().min(1), conduktDecideSchema]).optional(),
});

export const conduktPolicySchema = z.strictObject({
  rules: z.array(conduktRuleSchema).optional(),
  default: z.enum(['allow', 'deny']).optional(),
  decide_timeout: timeout.optional(),
  decision_cache: z.boolean().optional(),
  context_messages: z.number().int().min(0).optional(),
  context_metadata: contextMetadata.optional(),
  redact: z.array(z.string()).optional(),
  max_body_capture: z.number().int().min(0).optional(),
});

export type ConduktPolicyRaw = z.infer<typeof conduktPolicySchema>;
export type ConduktRuleRaw = z.infer<typeof conduktRuleSchema>;
export type ConduktDecideRaw = z.infer<typeof conduktDecideSchema>;
