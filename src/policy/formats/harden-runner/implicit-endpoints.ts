/**
 * The endpoints Harden-Runner's agent always allows, whatever `allowed-endpoints` says: its own
 * API and the GitHub Actions service endpoints a job needs to run at all. The agent appends them
 * to the allowed endpoints before it writes its DNS and firewall rules (`addImplicitEndpoints`
 * in step-security/agent, agent.go), so a policy imported from Harden-Runner must allow them too
 * to decide every destination as the original does. Port 443 only, exact names, as there.
 */
import type { Rule } from '../../model.js';

export const IMPLICIT_ENDPOINTS: readonly string[] = [
  'agent.api.stepsecurity.io',
  'pipelines.actions.githubusercontent.com',
  'artifactcache.actions.githubusercontent.com',
  'codeload.github.com',
  'token.actions.githubusercontent.com',
  'vstoken.actions.githubusercontent.com',
  'vstsmms.actions.githubusercontent.com',
];

export const IMPLICIT_RULE_NAME = 'harden-runner implicit endpoints';

/** The allow rule for the implicit endpoints; it has no source line (the agent adds it). */
export function implicitEndpointsRule(): Rule {
  return {
    kind: 'allow',
    name: IMPLICIT_RULE_NAME,
    selectors: IMPLICIT_ENDPOINTS.map((host) => ({ host, ports: [{ from: 443, to: 443 }] })),
  };
}
