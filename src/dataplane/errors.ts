/**
 * The two ways the data plane refuses to start or go on, told apart so that whoever runs it
 * (the CLI: exit 2 or 1) can say which: input the operator can fix, or a job it cannot do.
 */

/** Configuration or input the operator can fix (a bad value, a missing policy file). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The data plane could not do its job (a port in use, an unwritable audit log). */
export class RuntimeFailure extends Error {
  override name = 'RuntimeFailure';
}

/** Runs `fn`, turning anything it throws into a ConfigError (a bad value the operator gave). */
export function asConfigError<T>(fn: () => T, prefix = ''): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${prefix}${(err as Error).message}`);
  }
}
