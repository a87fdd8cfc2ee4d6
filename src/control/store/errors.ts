/**
 * Typed store failures. Each has a stable `code` the API maps to an HTTP status
 * (not_found → 404, already_exists / version_conflict / in_use → 409, invalid → 400).
 */
export type StoreErrorCode =
  'not_found' | 'already_exists' | 'version_conflict' | 'in_use' | 'invalid';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends StoreError {
  constructor(
    /** `scope`, `policy`, `user`, `token`, `node`, `role`, … */
    readonly entity: string,
    readonly key: string,
  ) {
    super('not_found', `${entity} ${JSON.stringify(key)} does not exist`);
  }
}

export class AlreadyExistsError extends StoreError {
  constructor(
    readonly entity: string,
    /** The field whose value is taken (`name`, `app`). */
    readonly field: string,
    readonly value: string,
    where = '',
  ) {
    super(
      'already_exists',
      `${/^[aeiou]/.test(entity) ? 'an' : 'a'} ${entity} with ${field} ${JSON.stringify(value)} already exists${where ? ` ${where}` : ''}`,
    );
  }
}

/** The If-Match check failed: someone saved a newer version first. */
export class VersionConflictError extends StoreError {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      'version_conflict',
      `${entity} ${id} is at version ${currentVersion}, not ${expectedVersion}: read it again and retry`,
    );
  }
}

/** The thing is still used: `users` names who (scope paths, binding ids, child paths). */
export class InUseError extends StoreError {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly users: string[],
    what: string,
  ) {
    super('in_use', `${entity} ${id} is in use by ${what}: ${users.join(', ')}`);
  }
}

/** Input the store refuses (a bad scope name, an event without an id); `field` names it. */
export class InvalidError extends StoreError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('invalid', `${field}: ${message}`);
  }
}
