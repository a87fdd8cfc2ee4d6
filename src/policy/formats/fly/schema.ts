/**
 * Fly.io Machines network policy: the JSON body of `POST /v1/apps/<app>/network_policies`
 * (https://fly.io/docs/machines/guides-examples/network-policies). Fly documents exactly these
 * fields; anything else is rejected (the API would not act on it, so neither do we).
 */
import { z } from 'zod';

export const flyPortSchema = z.strictObject({
  /** A string is accepted only to say clearly that Fly has no port ranges. */
  port: z.union([z.number().int().min(1).max(65535), z.string()]),
  protocol: z.enum(['tcp', 'udp']),
});

export const flyRuleSchema = z.strictObject({
  /** Fly only has "allow"; checked in convert for a clearer message. */
  action: z.string(),
  direction: z.enum(['ingress', 'egress']),
  ports: z.array(flyPortSchema).min(1),
});

export const flySelectorSchema = z.strictObject({
  all: z.boolean().optional(),
  machines: z.array(z.strictObject({ id: z.string().min(1) })).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

export const flyPolicySchema = z.strictObject({
  name: z.string().min(1),
  id: z.string().optional(),
  selector: flySelectorSchema,
  rules: z.array(flyRuleSchema),
});

export type FlyPolicyRaw = z.infer<typeof flyPolicySchema>;
export type FlySelectorRaw = z.infer<typeof flySelectorSchema>;
