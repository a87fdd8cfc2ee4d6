/**
 * anthropic-experimental/sandbox-runtime (srt) settings: the JSON file `srt --settings` reads
 * (SandboxRuntimeConfigSchema in src/sandbox/sandbox-config.ts). Only `network` matters to
 * egress; the other top-level sections are accepted so a real settings file imports as is.
 * srt itself rejects unknown top-level keys and strips unknown network keys; egress rejects
 * both (a misspelt key must not quietly change what is allowed).
 */
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
/** Sections egress does not read: their shape is srt's business. */
const ignored = z.unknown().optional();

export const srtNetworkSchema = z.strictObject({
  allowedDomains: z.array(z.string()),
  deniedDomains: z.array(z.string()),
  deniedDomainReasons: z.record(z.string(), z.string().min(1)).optional(),
  strictAllowlist: z.boolean().optional(),
  allowUnixSockets: z.array(z.string()).optional(),
  allowAllUnixSockets: z.boolean().optional(),
  allowLocalBinding: z.boolean().optional(),
  allowMachLookup: z.array(z.string()).optional(),
  httpProxyPort: port.optional(),
  socksProxyPort: port.optional(),
  mitmProxy: z
    .strictObject({ socketPath: z.string().min(1), domains: z.array(z.string()).min(1) })
    .optional(),
  /** A JS callback in srt's library API; it cannot be written in a settings file. */
  filterRequest: z.unknown().optional(),
  tlsTerminate: z
    .strictObject({
      caCertPath: z.string().min(1).optional(),
      caKeyPath: z.string().min(1).optional(),
      excludeDomains: z.array(z.string()).optional(),
      extraCaCertPaths: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  parentProxy: z
    .strictObject({
      http: z.string().optional(),
      https: z.string().optional(),
      noProxy: z.string().optional(),
    })
    .optional(),
});

export const srtSettingsSchema = z.strictObject({
  network: srtNetworkSchema,
  filesystem: ignored,
  credentials: ignored,
  ignoreViolations: ignored,
  enableWeakerNestedSandbox: ignored,
  enableWeakerNetworkIsolation: ignored,
  allowAppleEvents: ignored,
  ripgrep: ignored,
  mandatoryDenySearchDepth: ignored,
  allowPty: ignored,
  seccomp: ignored,
  bwrapPath: ignored,
  socatPath: ignored,
  javaAgentJarPath: ignored,
  windows: ignored,
  git: ignored,
});

export type SrtSettingsRaw = z.infer<typeof srtSettingsSchema>;
export type SrtNetworkRaw = z.infer<typeof srtNetworkSchema>;
