/**
 * The `network:` field of a GitHub Agentic Workflows front matter (gh-aw's
 * main_workflow_schema.json): the string "defaults", or an object with `allowed`, `blocked`,
 * `firewall` and `allowed-input`. Only `network` is checked strictly; a workflow has many other
 * keys (`on`, `engine`, `tools`, ...) that have nothing to do with egress.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const entries = z
  .array(z.string())
  .meta({ description: 'Ecosystem identifiers (python, node, ...), domains and *.wildcards.' });

export const firewallObjectSchema = z.strictObject({
  'log-level': z.enum(LOG_LEVELS).optional().meta({ description: 'AWF log level (default info).' }),
  version: z.string().optional().meta({ description: 'AWF version (not used by egress).' }),
  args: z.array(z.string()).optional().meta({ description: 'Extra AWF arguments (ignored).' }),
  'ssl-bump': z.boolean().optional(),
  'allow-urls': z.array(z.string()).optional(),
});

// Object first: when a mapping fails, its own errors ("unknown field") are the useful ones.
const firewallSchema = z.union([firewallObjectSchema, z.literal('disable'), z.boolean(), z.null()]);

export const networkObjectSchema = z.strictObject({
  allowed: entries.optional(),
  blocked: entries.optional().meta({ description: 'Blocked entries win over allowed ones.' }),
  firewall: firewallSchema.optional(),
  'allowed-input': z
    .boolean()
    .optional()
    .meta({ description: 'Lets workflow_call callers add entries at run time.' }),
});

export const networkSchema = z.union([networkObjectSchema, z.literal('defaults')]);

export const ghAwFrontMatterSchema = z.looseObject({
  name: z.string().optional(),
  description: z.string().optional(),
  network: networkSchema.optional(),
});

export type GhAwFrontMatterRaw = z.infer<typeof ghAwFrontMatterSchema>;
export type GhAwNetworkObjectRaw = z.infer<typeof networkObjectSchema>;
export type GhAwFirewallRaw = z.infer<typeof firewallSchema>;
