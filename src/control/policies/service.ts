/**
 * Policy changes: create, update (a new immutable version), restore (a new version with an old
 * one's content) and delete. Each checks the hierarchy's tests with the change applied before
 * writing, and writes the change and its audit event in one transaction.
 */
import type { Policy } from '../../policy/model.js';
import type { Actor } from '../audit/actor.js';
import { changeEvent, type ChangeInput } from '../audit/change-event.js';
import type { ControlDeps } from '../context.js';
import { checkVersion } from '../http/etag.js';
import { ApiError } from '../http/problem.js';
import { failingTestsBelow, refuseIfTestsFail } from '../hierarchy/tests-below.js';
import { loadHierarchy, type Hierarchy } from '../hierarchy/snapshot.js';
import { describeScope } from '../rbac/scope-path.js';
import type { PolicyRecord, PolicyVersion, Scope, Store } from '../store/store.js';
import { prepareContent, type PreparedContent } from './content.js';
import { refOf } from './views.js';

export interface PolicyText {
  name: string;
  description: string;
  format?: string;
  source: string;
}

export interface Saved {
  policy: PolicyRecord;
  version: PolicyVersion;
  warnings: PreparedContent['warnings'];
}

async function writeEvent(tx: Store, input: ChangeInput, now: number): Promise<void> {
  await tx.appendEvents([changeEvent(input, now)]);
}

export class PolicyService {
  constructor(private readonly deps: ControlDeps) {}

  private scopeOf(h: Hierarchy, record: PolicyRecord): Scope {
    const scope = h.byId.get(record.scopeId);
    if (!scope)
      throw new ApiError(404, 'not_found', `the scope of policy ${record.id} no longer exists`);
    return scope;
  }

  async create(scope: Scope, text: PolicyText, actor: Actor | null, h?: Hierarchy): Promise<Saved> {
    if (scope.kind === 'workspace')
      throw new ApiError(
        400,
        'policy_at_workspace',
        'policies are defined at the platform, an organisation or a project, never at a workspace',
      );
    const hierarchy = h ?? (await loadHierarchy(this.deps.store));
    const content = prepareContent(hierarchy, scope, text, this.deps.ecosystemExtras);
    const now = this.deps.clock.now();
    return this.deps.store.transaction(async (tx) => {
      const saved = await tx.createPolicy({
        scopeId: scope.id,
        name: text.name,
        description: text.description,
        format: content.format,
        source: content.source,
        native: content.native,
        author: actor?.userId ?? null,
      });
      await writeEvent(
        tx,
        {
          type: 'policy.created',
          user: actor?.userName ?? null,
          address: actor?.address ?? null,
          scope: scope.path,
          description: `${actor ? `User ${actor.userName}` : 'egress'} created policy "${text.name}" (${content.format}, ${content.policy.mode}) in ${describeScope(scope.path)}.`,
          after: refOf(saved.policy),
        },
        now,
      );
      return { ...saved, warnings: content.warnings };
    });
  }

  /** A new version; `text` fields left out keep their current value. */
  async update(
    record: PolicyRecord,
    expected: number | undefined,
    text: Partial<PolicyText> & { restoredFrom?: number },
    actor: Actor,
  ): Promise<Saved> {
    checkVersion(expected, record.currentVersion);
    const h = await loadHierarchy(this.deps.store);
    const entry = h.policies.get(record.id);
    if (!entry) throw new ApiError(404, 'not_found', `policy ${record.id} does not exist`);
    const scope = this.scopeOf(h, record);
    const name = text.name ?? record.name;
    const content = prepareContent(
      h,
      scope,
      {
        name,
        format: text.format ?? entry.current.format,
        source: text.source ?? entry.current.source,
      },
      this.deps.ecosystemExtras,
    );
    // The tests of every workspace this policy may reach, with the new version in place.
    const proposed = h.withPolicy(record.id, {
      record: { ...record, currentVersion: record.currentVersion + 1, name },
      current: { ...entry.current, version: record.currentVersion + 1, native: content.native },
      native: content.native as Policy,
    });
    refuseIfTestsFail(
      failingTestsBelow(proposed, scope, this.deps.ecosystemExtras),
      `version ${record.currentVersion + 1} of "${name}"`,
    );
    const now = this.deps.clock.now();
    return this.deps.store.transaction(async (tx) => {
      const saved = await tx.updatePolicy(record.id, record.currentVersion, {
        ...(text.name !== undefined ? { name: text.name } : {}),
        ...(text.description !== undefined ? { description: text.description } : {}),
        format: content.format,
        source: content.source,
        native: content.native,
        author: actor.userId,
      });
      const what =
        text.restoredFrom !== undefined ? `restored version ${text.restoredFrom} of` : 'updated';
      await writeEvent(
        tx,
        {
          type: 'policy.updated',
          user: actor.userName,
          address: actor.address,
          scope: scope.path,
          description: `User ${actor.userName} ${what} policy "${saved.policy.name}" in ${describeScope(scope.path)}: version ${record.currentVersion} → ${saved.policy.currentVersion}.`,
          before: refOf(record),
          after: refOf(saved.policy),
          ...(text.restoredFrom !== undefined
            ? { details: { restoredFrom: text.restoredFrom } }
            : {}),
        },
        now,
      );
      return { ...saved, warnings: content.warnings };
    });
  }

  async restore(
    record: PolicyRecord,
    version: number,
    expected: number | undefined,
    actor: Actor,
  ): Promise<Saved> {
    const old = await this.deps.store.getPolicyVersion(record.id, version);
    if (!old) throw new ApiError(404, 'not_found', `policy ${record.id} has no version ${version}`);
    return this.update(
      record,
      expected,
      { format: old.format, source: old.source, restoredFrom: version },
      actor,
    );
  }

  async remove(record: PolicyRecord, expected: number | undefined, actor: Actor): Promise<void> {
    checkVersion(expected, record.currentVersion);
    const users = await this.deps.store.assignmentsOfPolicy(record.id);
    if (users.length > 0) {
      const scopes = users.map((a) => a.scopePath);
      throw new ApiError(
        409,
        'policy_in_use',
        `policy "${record.name}" is assigned at ${scopes.map(describeScope).join(', ')}; assign another policy there first`,
        { extensions: { scopes } },
      );
    }
    const now = this.deps.clock.now();
    await this.deps.store.transaction(async (tx) => {
      await tx.deletePolicy(record.id, record.currentVersion);
      await writeEvent(
        tx,
        {
          type: 'policy.deleted',
          user: actor.userName,
          address: actor.address,
          scope: record.scopePath,
          description: `User ${actor.userName} deleted policy "${record.name}" (version ${record.currentVersion}) in ${describeScope(record.scopePath)}.`,
          before: refOf(record),
        },
        now,
      );
    });
  }
}
