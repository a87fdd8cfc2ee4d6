/** Errors the CLI turns into exit codes (DESIGN.md section 6: 0 done, 1 runtime, 2 invalid input). */
import { ConfigError } from '../dataplane/errors.js';

export { ConfigError, RuntimeFailure } from '../dataplane/errors.js';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_INVALID = 2;

/**
 * Bad arguments or input the user can fix: exit 2 with the message. A ConfigError from the data
 * plane (a bad policy file, a bad --dns-upstream) exits the same way.
 */
export class UsageError extends ConfigError {
  override name = 'UsageError';
}
