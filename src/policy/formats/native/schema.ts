/**
 * The native policy format, version 1: the zod schema that validates it and that
 * `npm run schema` turns into schema/egress-policy.v1.json for editors. One source, so the
 * validator and the published JSON Schema cannot drift apart.
 */
import { z } from 'zod';

const port = z
  .union([z.number().int(), z.string()])
  .meta({ description: 'A port (443) or a range ("8000-8999").' });
const ports = z
  .union([port, z.array(port)])
  .meta({ description: 'Ports; absent means every port.' });
const transport = z
  .enum(['tcp', 'udp', 'any'])
  .meta({ description: 'tcp (default for allow and decide), udp, or any (default for deny).' });

export const selectorObjectSchema = z
  .strictObject({
    host: z.string().optional().meta({
      description:
        'Host pattern: example.com, *.example.com (one label), **.example.com (any depth), api-*.example.com, *.',
    }),
    includeSubdomains: z
      .boolean()
      .optional()
      .meta({ description: 'With an exact host: also every subdomain.' }),
    cidr: z
      .string()
      .optional()
      .meta({ description: 'IP address or CIDR: 192.168.1.50, 10.0.0.0/8, 2001:db8::/32.' }),
    ip: z.string().optional().meta({ description: 'Same as cidr.' }),
    ecosystem: z
      .string()
      .optional()
      .meta({ description: 'Ecosystem identifier: python, node, github, containers, ...' }),
    any: z
      .literal(true)
      .optional()
      .meta({ description: 'Every destination, names and addresses (use with ports/transport).' }),
    ports: ports.optional(),
    transport: transport.optional(),
  })
  .meta({ description: 'One destination: exactly one of host, cidr/ip, ecosystem or any.' });

const selector = z.union([
  z.string().meta({ description: 'host, host:port, [v6]:port, IP, CIDR or ecosystem:NAME' }),
  selectorObjectSchema,
]);
const selectorList = z.union([selector, z.array(selector)]);

export const deciderSchema = z.strictObject({
  url: z.string().optional().meta({
    description:
      'Webhook that receives POST JSON and answers {"decision": "allow"|"deny", "reason": "..."}.',
  }),
  module: z.string().optional().meta({ description: 'JS module exporting decide(ctx, req).' }),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .optional()
    .meta({ description: 'Default 5000; a timeout denies.' }),
  cache: z
    .boolean()
    .optional()
    .meta({ description: 'Cache answers per workspace per host (default true).' }),
  contextMessages: z.number().int().min(0).optional(),
  contextMetadata: z.array(z.string()).optional(),
  metadata: z
    .record(z.string(), z.string())
    .optional()
    .meta({ description: 'Static metadata sent with every decider request.' }),
});

export const ruleSchema = z
  .strictObject({
    allow: selectorList.optional(),
    deny: selectorList.optional(),
    decide: selectorList.optional(),
    name: z.string().optional().meta({ description: 'A label shown in explanations.' }),
    ports: ports.optional().meta({ description: 'Default ports for the entries of this rule.' }),
    transport: transport.optional(),
    decider: deciderSchema
      .optional()
      .meta({ description: 'Decider for a decide rule (default: the policy decider).' }),
    enforce: z.literal('always').optional().meta({
      description:
        'Deny rules only: "always" blocks what this rule denies even in monitor mode (where other denials are only recorded as "would deny").',
    }),
  })
  .meta({
    description:
      'Exactly one of allow, deny or decide, with a list of destinations. First match wins.',
  });

const verdict = z.enum(['allow', 'deny']);

export const resourceSchema = z.strictObject({
  kind: z.enum(['repository', 'ssh', 'http']),
  name: z.string().optional(),
  host: z.string(),
  ports: ports.optional(),
});

export const policyTestSchema = z
  .strictObject({
    dest: z.string().meta({
      description:
        'Destination as egress check takes it: host (port 443), host:port, [v6]:port, ip, scheme://host[:port], udp://host:port.',
    }),
    expect: verdict.meta({
      description: "The policy's verdict for it (in monitor mode: what it would do).",
    }),
  })
  .meta({ description: 'A test case: egress lint fails when the policy decides dest otherwise.' });

export const nativePolicySchema = z
  .strictObject({
    version: z.literal(1).meta({ description: 'Format version; always 1 for now.' }),
    name: z.string().min(1),
    description: z.string().optional(),
    mode: z.enum(['monitor', 'restrict', 'inspect']).meta({
      description:
        'monitor: log everything, block nothing; restrict: enforce; inspect: restrict plus TLS inspection.',
    }),
    default: verdict
      .optional()
      .meta({ description: 'Verdict when no rule matches (default deny).' }),
    rules: z.array(ruleSchema).optional(),
    resources: z
      .array(resourceSchema)
      .optional()
      .meta({ description: 'Attached repositories and services: always reachable.' }),
    decider: deciderSchema.optional(),
    redact: z.array(z.string()).optional().meta({
      description:
        'Regular expressions removed from inspected headers and bodies before recording.',
    }),
    maxBodyCapture: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Bytes of each body recorded in inspect mode (default 4096).' }),
    privateRanges: verdict
      .optional()
      .meta({ description: 'allow: allowed names may resolve to private ranges.' }),
    ingress: z
      .strictObject({
        default: verdict.optional(),
        allow: z
          .array(z.strictObject({ ports: ports.optional(), transport: transport.optional() }))
          .optional(),
      })
      .optional(),
    viaUpstreamProxy: selectorList
      .optional()
      .meta({ description: 'Destinations reached through the parent proxy (--upstream-proxy).' }),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).optional(),
    appliesTo: z
      .union([
        z.strictObject({ all: z.literal(true) }),
        z.strictObject({ ids: z.array(z.string()) }),
        z.strictObject({ metadata: z.record(z.string(), z.string()) }),
      ])
      .optional(),
    tests: z.array(policyTestSchema).optional().meta({
      description:
        'Destinations and the verdict this policy must give them; checked by egress lint, egress check --tests and the control plane on every save.',
    }),
  })
  .meta({ title: 'egress network policy', description: 'Native egress policy, format version 1.' });

export type NativePolicyRaw = z.infer<typeof nativePolicySchema>;
export type NativeRuleRaw = z.infer<typeof ruleSchema>;
export type NativePolicyTestRaw = z.infer<typeof policyTestSchema>;
export type NativeSelectorRaw = z.infer<typeof selector>;

export function nativeJsonSchema(): unknown {
  return z.toJSONSchema(nativePolicySchema, { target: 'draft-2020-12' });
}
