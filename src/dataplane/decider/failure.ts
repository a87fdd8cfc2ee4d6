/** Why asking a decider did not produce an answer; each maps to a fail-closed deny reason. */
export type DeciderFailureReason = 'decider_timeout' | 'decider_error' | 'decider_bad_return';

export class DeciderFailure extends Error {
  override name = 'DeciderFailure';
  constructor(
    readonly reason: DeciderFailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** Runs `work` with a deadline; on expiry `onTimeout` runs (to abort) and a timeout fails. */
export function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  what: string,
  onTimeout: () => void = () => undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(
        new DeciderFailure('decider_timeout', `${what} did not answer within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
