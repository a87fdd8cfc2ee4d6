/**
 * Harden-Runner configuration (step-security/harden-runner action.yml): the `with:` inputs of
 * its step, and the same keys in a named policy of the policy store or in a cluster-level
 * (ARC) policy file. Action inputs are strings in GitHub Actions, but YAML may type them
 * (`disable-sudo: true`), so the inputs egress ignores accept any scalar.
 */
import { z } from 'zod';

const scalar = z.union([z.string(), z.boolean(), z.number()]);
const endpointsText = z
  .string()
  .meta({ description: 'host:port entries separated by spaces or newlines; no port = 443.' });
const egressPolicy = z
  .string()
  .meta({ description: 'audit (record only) or block (allow only allowed-endpoints).' });

/** Inputs that only matter on a GitHub runner (sudo, files, telemetry): accepted, not used. */
const runnerOnlyInputs = {
  'disable-telemetry': scalar.optional(),
  'disable-sudo': scalar.optional(),
  'disable-sudo-and-containers': scalar.optional(),
  'disable-file-monitoring': scalar.optional(),
};

export const stepWithSchema = z
  .strictObject({
    'egress-policy': egressPolicy.optional(),
    'allowed-endpoints': endpointsText.optional(),
    policy: z.string().optional().meta({ description: 'Named policy from the policy store.' }),
    ...runnerOnlyInputs,
    'exempt-files': scalar.optional(),
    token: scalar.optional(),
    'api-key': scalar.optional(),
    'use-policy-store': scalar.optional(),
    'deploy-on-self-hosted-vm': scalar.optional(),
  })
  .meta({ title: 'with: inputs of step-security/harden-runner' });

/** A named policy of the policy store, or the cluster-level policy: the same keys, no `policy`. */
export const storedPolicySchema = z
  .strictObject({
    'egress-policy': egressPolicy.optional(),
    'allowed-endpoints': z.union([endpointsText, z.array(z.string())]).optional(),
    ...runnerOnlyInputs,
    'exempt-files': z.union([z.string(), z.array(z.string())]).optional(),
  })
  .meta({ title: 'Harden-Runner policy (policy store or cluster level)' });

const stepSchema = z.looseObject({ uses: z.string().optional(), with: z.unknown().optional() });

export const workflowSchema = z.looseObject({
  name: z.string().optional(),
  jobs: z.record(z.string(), z.looseObject({ steps: z.array(stepSchema).optional() })),
});

export const singleStepSchema = z.looseObject({ uses: z.string(), with: z.unknown().optional() });

export type StepWithRaw = z.infer<typeof stepWithSchema>;
export type StoredPolicyRaw = z.infer<typeof storedPolicySchema>;
export type WorkflowRaw = z.infer<typeof workflowSchema>;
