import { z } from 'zod';
import {
  actionsOf,
  RESOURCE_KINDS,
  RESOURCE_TITLES,
  ROLE_TITLES,
  ROLES,
  roleLevel,
  rolesFor,
  ruleFor,
} from '../permissions.ts';

export const RoleSchema = z.enum(ROLES).meta({ id: 'Role' });
export const ResourceKindSchema = z.enum(RESOURCE_KINDS).meta({ id: 'ResourceKind' });

/** The permission table as served at /api/v1/permissions and shown on the help page. */
export const PermissionTableSchema = z
  .object({
    roles: z.array(z.object({ role: RoleSchema, title: z.string(), level: z.number().int() })),
    resources: z.array(
      z.object({
        kind: ResourceKindSchema,
        title: z.string(),
        actions: z.array(
          z.object({
            action: z.string(),
            description: z.string(),
            roles: z.array(RoleSchema),
            public: z.boolean(),
          }),
        ),
      }),
    ),
    rules: z.array(z.string()),
  })
  .meta({ id: 'PermissionTable' });
export type PermissionTable = z.infer<typeof PermissionTableSchema>;

/** The rules that sit around the table, in words. */
export const PERMISSION_RULES: readonly string[] = [
  'A user with no role on a resource does not see it: the API answers 404, not 403.',
  'Platform admins may do everything on every resource.',
  'The creator of a resource becomes its Owner.',
  'A public image repository can be read and pulled by everyone.',
  "An image repository inherits its image group's members; a role granted on the repository itself can only raise that (the higher role counts).",
  'Members are managed by Owners and Masters; nobody grants a role above their own or changes a member above their own role.',
  'Any member may leave; the last Owner of an application, image group or build project cannot leave or be demoted.',
];

/** The table in its served form, built from PERMISSIONS. */
export function permissionTable(): PermissionTable {
  return {
    roles: ROLES.map((role) => ({ role, title: ROLE_TITLES[role], level: roleLevel(role) })),
    resources: RESOURCE_KINDS.map((kind) => ({
      kind,
      title: RESOURCE_TITLES[kind],
      actions: actionsOf(kind).map((action) => {
        const rule = ruleFor(kind, action);
        return {
          action,
          description: rule.description,
          roles: rolesFor(rule),
          public: rule.public === true,
        };
      }),
    })),
    rules: [...PERMISSION_RULES],
  };
}

/** What the caller may do on one resource (for the console's buttons). */
export const AccessSchema = z
  .object({
    role: RoleSchema.nullable(),
    admin: z.boolean(),
    actions: z.array(z.string()),
  })
  .meta({ id: 'Access' });
export type Access = z.infer<typeof AccessSchema>;
