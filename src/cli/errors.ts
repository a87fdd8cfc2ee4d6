/** Errors the CLI turns into exit codes (DESIGN.md section 6: 0 done, 1 runtime, 2 invalid input). */

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_INVALID = 2;

/** Bad arguments or input the user can fix: exit 2 with the message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command could not do its job (a port in use, an unwritable audit log): exit 1. */
export class RuntimeFailure extends Error {
  override name = 'RuntimeFailure';
}
