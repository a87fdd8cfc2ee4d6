/**
 * Name rules of DESIGN 9.1 checked in the store too (the database also has unique(parent,
 * name)), so no caller can store a name that cannot be addressed by path.
 */
import { InvalidError } from './errors.js';
import type { Metadata } from './records.js';

const NAME = /^[A-Za-z0-9._-]{1,63}$/;

/** Throws `InvalidError` naming `field` unless `name` is a valid scope, policy or app name. */
export function checkName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidError(
      field,
      `${JSON.stringify(name)} is not a valid name: use 1-63 letters, digits, '.', '_' or '-'`,
    );
  }
  if (name === '.' || name === '..') {
    throw new InvalidError(field, `"${name}" cannot be used as a name: it is a path step`);
  }
  return name;
}

/**
 * Policy names are free text (DESIGN 9.1: required, non-empty, unique in their scope; the
 * built-in defaults are "Monitor Traffic (default)" and the like): 1-200 characters, not only
 * spaces, no control characters. They are never a path step (policies are addressed by id).
 */
export function checkPolicyName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    throw new InvalidError(
      field,
      `${JSON.stringify(name)} is not a valid policy name: use 1-200 characters`,
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidError(
      field,
      'a policy name may not contain control characters (newlines, tabs)',
    );
  }
  return name;
}

/** Workspace metadata must be a JSON object of string values. */
export function checkMetadata(field: string, metadata: unknown): Metadata {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidError(field, 'must be an object of string keys to string values');
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new InvalidError(`${field}.${key}`, `must be a string, not ${JSON.stringify(value)}`);
    }
  }
  return { ...(metadata as Metadata) };
}

/** The path step naming a kind's children: `orgs/acme/projects/web/workspaces/ws1`. */
export const PATH_STEP = {
  organisation: 'orgs',
  project: 'projects',
  workspace: 'workspaces',
} as const;
