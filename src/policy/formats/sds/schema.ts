/**
 * Secure Developer Spaces expert-mode network policy YAML, as the admin console's editor accepts
 * it. Every field the editor rejects is rejected here too (strict objects: unknown fields are
 * errors with a "did you mean").
 */
import { z } from 'zod';

export const sdsDomainEntrySchema = z
  .strictObject({
    domain: z.string().meta({ description: 'A domain name; "*.x" means any subdomain of x.' }),
    includeSubdomains: z
      .boolean()
      .optional()
      .meta({ description: 'true: the domain itself and every subdomain. Default false.' }),
  })
  .meta({ description: 'One domain the workspace may reach.' });

export const sdsPolicySchema = z
  .strictObject({
    name: z.string().meta({ description: 'The policy name. Must not be empty.' }),
    description: z.string().meta({ description: 'What the policy does. Must not be empty.' }),
    restrictedTraffic: z
      .boolean()
      .meta({ description: 'true: restrict to the allow list; false: monitor without blocking.' }),
    customEndpointsEnabled: z
      .boolean()
      .optional()
      .meta({ description: 'Enables the custom-endpoints-via-proxy lists.' }),
    whitelistedDomains: z.array(sdsDomainEntrySchema).optional(),
    whitelistedIps: z
      .array(z.string())
      .optional()
      .meta({ description: 'IPv4 addresses or CIDR ranges.' }),
    customEndpointsViaProxyDomains: z.array(sdsDomainEntrySchema).optional(),
    customEndpointsViaProxyIps: z.array(z.string()).optional(),
  })
  .meta({ title: 'Secure Developer Spaces network policy (expert mode)' });

export type SdsPolicyRaw = z.infer<typeof sdsPolicySchema>;
export type SdsDomainEntryRaw = z.infer<typeof sdsDomainEntrySchema>;
