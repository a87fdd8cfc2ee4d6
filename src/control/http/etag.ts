/**
 * Optimistic concurrency on policy edits: a policy's ETag is its current version (`"v3"`).
 * Changing a policy requires `If-Match` with that ETag (or `*`); without it the answer is
 * 428 Precondition Required, with a stale one 412 Precondition Failed and the current ETag, so
 * two editors can never overwrite each other's change unseen.
 */
import { ApiError } from './problem.js';

export function etagOf(version: number): string {
  return `"v${version}"`;
}

/** The version an If-Match header names; `current` for `*`. */
export function expectedVersion(
  ifMatch: string | undefined,
  current: number,
  required = true,
): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '') {
    if (!required) return undefined;
    throw new ApiError(
      428,
      'precondition_required',
      `send If-Match with the policy's ETag (${etagOf(current)}, from GET) so that your change cannot overwrite someone else's`,
      { extensions: { currentVersion: current }, headers: { etag: etagOf(current) } },
    );
  }
  const tags = ifMatch.split(',').map((t) => t.trim());
  if (tags.includes('*')) return current;
  for (const tag of tags) {
    const m = /^(?:W\/)?"v?(\d{1,9})"$/.exec(tag);
    if (m) return Number(m[1]);
  }
  throw new ApiError(
    400,
    'validation_failed',
    `header.if-match: "${ifMatch}" is not an ETag of this API`,
    {
      errors: [
        {
          field: 'header.if-match',
          code: 'invalid_etag',
          message: `send the ETag from GET, e.g. ${etagOf(current)}`,
        },
      ],
    },
  );
}

/** 412 when the version the client saw is not the current one. */
export function checkVersion(expected: number | undefined, current: number): void {
  if (expected === undefined || expected === current) return;
  throw new ApiError(
    412,
    'version_conflict',
    `the policy is at version ${current}, not ${expected}: someone saved a newer version; read it again and reapply your change`,
    { extensions: { currentVersion: current }, headers: { etag: etagOf(current) } },
  );
}
