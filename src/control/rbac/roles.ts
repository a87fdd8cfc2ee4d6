/**
 * Permissions and roles (DESIGN.md 9.2). Two permissions: Security::Manage (create, edit,
 * delete, select and enforce policies and assignments; implies Access) and Security::Access
 * (read). Built-in roles are fixed; custom roles name a set of permissions and may be bound
 * anywhere.
 */
import type { ScopeKind } from './scope-path.js';

export const MANAGE = 'Security::Manage';
export const ACCESS = 'Security::Access';
export const PERMISSIONS = [MANAGE, ACCESS] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface RoleDefinition {
  name: string;
  description: string;
  permissions: Permission[];
  builtIn: boolean;
  /** Where a binding of this role may be made; undefined = anywhere. */
  bindableAt?: ScopeKind[];
}

export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  {
    name: 'security-officer',
    description: 'Manages network security everywhere (bound at the platform).',
    permissions: [MANAGE],
    builtIn: true,
    bindableAt: ['platform'],
  },
  {
    name: 'platform-admin',
    description: 'Administers the platform, network security included (bound at the platform).',
    permissions: [MANAGE],
    builtIn: true,
    bindableAt: ['platform'],
  },
  {
    name: 'org-owner',
    description: 'Manages network security in one organisation.',
    permissions: [MANAGE],
    builtIn: true,
    bindableAt: ['organisation'],
  },
  {
    name: 'project-owner',
    description: 'Manages network security in one project.',
    permissions: [MANAGE],
    builtIn: true,
    bindableAt: ['project'],
  },
  {
    name: 'developer',
    description: 'Reads the network security of one project or workspace.',
    permissions: [ACCESS],
    builtIn: true,
    bindableAt: ['project', 'workspace'],
  },
];

export function builtInRole(name: string): RoleDefinition | undefined {
  return BUILT_IN_ROLES.find((r) => r.name === name);
}

/** The permissions a set of granted ones amounts to: Manage implies Access. */
export function expandPermissions(granted: Iterable<string>): Set<Permission> {
  const out = new Set<Permission>();
  for (const p of granted) {
    if (p === MANAGE) {
      out.add(MANAGE);
      out.add(ACCESS);
    } else if (p === ACCESS) out.add(ACCESS);
  }
  return out;
}
