/** Policies as the API shows them (PolicySummary, PolicyDetail, PolicyVersion). */
import { emitNative } from '../../policy/formats/index.js';
import { lintPolicy } from '../../policy/lint.js';
import type { Policy } from '../../policy/model.js';
import type { FieldError } from '../http/problem.js';
import type { PolicyRecord, PolicyVersion, User } from '../store/store.js';
import { diagnosticToFieldError } from './source.js';

/** User ids → names, for `author` (null: the system). */
export type NameOf = (userId: string | null) => string | null;

export function nameLookup(users: readonly User[]): NameOf {
  const names = new Map(users.map((u) => [u.id, u.name]));
  return (id) => (id === null ? null : (names.get(id) ?? id));
}

export function policySummary(record: PolicyRecord, current: PolicyVersion, nameOf: NameOf) {
  const native = current.native as Policy;
  return {
    id: record.id,
    scope: record.scopePath,
    name: record.name,
    description: record.description,
    format: current.format,
    version: record.currentVersion,
    mode: native.mode,
    hash: current.contentHash,
    author: nameOf(current.author),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    builtIn: record.createdBy === null,
    ...(native.appliesTo ? { appliesTo: native.appliesTo } : {}),
  };
}

export function policyDetail(
  record: PolicyRecord,
  current: PolicyVersion,
  nameOf: NameOf,
  usedBy: string[],
  warnings?: FieldError[],
) {
  const native = current.native as Policy;
  return {
    ...policySummary(record, current, nameOf),
    source: current.source,
    native: emitNative(native),
    warnings: warnings ?? lintPolicy(native).map((d) => diagnosticToFieldError(d)),
    usedBy,
  };
}

export function versionView(
  v: PolicyVersion,
  record: PolicyRecord,
  nameOf: NameOf,
  withSource: boolean,
) {
  return {
    id: v.policyId,
    version: v.version,
    name: record.name,
    description: record.description,
    format: v.format,
    hash: v.contentHash,
    author: nameOf(v.author),
    createdAt: v.createdAt,
    ...(withSource ? { source: v.source } : {}),
  };
}

export function refOf(record: PolicyRecord, version = record.currentVersion) {
  return { id: record.id, name: record.name, version };
}
