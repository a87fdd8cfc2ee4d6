/** The store's typed failures as API problems (the store names the field or the users). */
import {
  AlreadyExistsError,
  InUseError,
  InvalidError,
  NotFoundError,
  StoreError,
  VersionConflictError,
} from '../store/store.js';
import { ApiError } from './problem.js';

export function fromStoreError(err: StoreError): ApiError {
  if (err instanceof NotFoundError)
    return new ApiError(
      404,
      'not_found',
      `${err.entity} ${JSON.stringify(err.key)} does not exist or you may not see it`,
    );
  if (err instanceof AlreadyExistsError)
    return new ApiError(409, 'already_exists', err.message, {
      errors: [{ field: err.field, code: 'already_exists', message: err.message }],
    });
  if (err instanceof VersionConflictError)
    return new ApiError(412, 'version_conflict', err.message, {
      extensions: { currentVersion: err.currentVersion },
      headers: { etag: `"v${err.currentVersion}"` },
    });
  if (err instanceof InUseError)
    return new ApiError(409, 'in_use', err.message, { extensions: { usedBy: err.users } });
  if (err instanceof InvalidError)
    return new ApiError(400, 'validation_failed', err.message, {
      errors: [{ field: err.field, code: 'invalid', message: err.message }],
    });
  return new ApiError(400, err.code, err.message);
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}
