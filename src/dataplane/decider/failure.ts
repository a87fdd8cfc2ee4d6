import type { DeciderFailureReason } from '../../policy/engine/refusals.js';
import { EgressError } from '../../protocol/errors.js';

/** Why asking a decider did not produce an answer; each code is a fail-closed deny reason. */
export type { DeciderFailureReason };

export class DeciderFailure extends EgressError<DeciderFailureReason> {
  override name = 'DeciderFailure';

  /** The deny reason it becomes (the code). */
  get reason(): DeciderFailureReason {
    return this.code;
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
