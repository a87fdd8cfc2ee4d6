/**
 * Stripe smokescreen ACL, version v1 (pkg/smokescreen/acl/v1/yaml_loader.go). smokescreen's
 * YAML decoder ignores unknown keys; egress rejects them, because a misspelt
 * "allowed_domain" would otherwise silently deny (or, under "open", silently allow).
 */
import { z } from 'zod';

const globList = z.array(z.string());

export const smokescreenMitmDomainSchema = z.strictObject({
  domain: z.string(),
  add_headers: z.record(z.string(), z.string()).optional(),
  detailed_http_logs: z.boolean().optional(),
  detailed_http_logs_full_headers: z.array(z.string()).optional(),
});

export const smokescreenRuleSchema = z.strictObject({
  name: z.string().optional(),
  project: z.string().optional(),
  action: z.enum(['open', 'report', 'enforce']),
  allowed_domains: globList.optional(),
  allowed_external_proxies: globList.optional(),
  mitm_domains: z.array(smokescreenMitmDomainSchema).optional(),
});

export const smokescreenAclSchema = z.strictObject({
  version: z.literal('v1'),
  services: z.array(smokescreenRuleSchema),
  default: smokescreenRuleSchema.optional(),
  global_allow_list: globList.optional(),
  global_deny_list: globList.optional(),
});

export type SmokescreenAclRaw = z.infer<typeof smokescreenAclSchema>;
export type SmokescreenRuleRaw = z.infer<typeof smokescreenRuleSchema>;
