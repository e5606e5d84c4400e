/**
 * The one permission table (GitLab-style roles on the four resources). Every check in
 * core, the registry token service and the console's help page read this table; nothing
 * else decides who may do what on a resource.
 *
 * Rules around the table (enforced by core, stated here so the help page can show them):
 * - a user with no role on a resource does not see it: 404, never 403;
 * - platform admins may do everything on every resource;
 * - a public image repository can be read and pulled by everyone;
 * - an image repository inherits its group's members; its own grant can only add (the
 *   effective role is the higher of the two).
 */

/** Roles from most to least powerful. */
export const ROLES = ['owner', 'master', 'developer', 'reporter', 'guest'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_TITLES: Record<Role, string> = {
  owner: 'Owner',
  master: 'Master',
  developer: 'Developer',
  reporter: 'Reporter',
  guest: 'Guest',
};

/** Higher is more powerful. */
export function roleLevel(role: Role): number {
  return ROLES.length - ROLES.indexOf(role);
}

/** True when `role` is `min` or above. */
export function roleAtLeast(role: Role, min: Role): boolean {
  return roleLevel(role) >= roleLevel(min);
}

/** The higher of two roles; null counts as no role. */
export function higherRole(a: Role | null, b: Role | null): Role | null {
  if (a === null) return b;
  if (b === null) return a;
  return roleLevel(a) >= roleLevel(b) ? a : b;
}

export const RESOURCE_KINDS = ['application', 'image-repository', 'image-group', 'build-project'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export const RESOURCE_TITLES: Record<ResourceKind, string> = {
  application: 'Application',
  'image-repository': 'Image repository',
  'image-group': 'Image group',
  'build-project': 'Build project',
};

/** One row of the table: who may do an action, as a minimum role or an explicit set. */
export type PermissionRule = {
  description: string;
  /** Everyone (also non-members) may do this on a public resource. */
  public?: boolean;
} & ({ min: Role } | { roles: readonly Role[] });

const table = {
  application: {
    read: { min: 'guest', description: 'See the application, its versions, settings and members' },
    update: { min: 'master', description: 'Change the description and settings; rotate the pull secret' },
    delete: { min: 'owner', description: 'Delete the application from every cell' },
    deploy: { min: 'master', description: 'Deploy a new version (gray upgrade)' },
    scale: { min: 'master', description: 'Change instances per cell, or the autoscaling range' },
    rollback: { min: 'master', description: 'Roll back to an earlier version' },
    'manage-members': {
      min: 'master',
      description: 'Add, remove and change members (not above your own role)',
    },
    'read-activity': { min: 'reporter', description: 'Read the activity feed' },
    'manage-domains': { min: 'master', description: 'Bind and unbind domains on SLB groups' },
    'manage-fixed-addresses': {
      min: 'master',
      description: "Reserve and release the application's fixed container addresses (a pool per cell)",
    },
    logs: { min: 'reporter', description: 'Read container logs' },
    exec: { min: 'master', description: 'Run a command in a running container (as kubectl exec)' },
  },
  'image-repository': {
    read: { min: 'guest', public: true, description: 'See the repository, its tags and members' },
    pull: { min: 'reporter', public: true, description: 'Pull images' },
    push: { min: 'developer', description: 'Push images (new tags)' },
    'delete-tag': { min: 'master', description: 'Delete a tag' },
    update: { min: 'master', description: 'Change the description and visibility (public/private)' },
    delete: { min: 'owner', description: 'Delete the repository and all its tags' },
    'manage-members': {
      min: 'master',
      description: 'Add, remove and change members (not above your own role)',
    },
    'read-activity': { min: 'reporter', description: 'Read the activity feed' },
  },
  'image-group': {
    read: { min: 'guest', description: 'See the group, its repositories and members' },
    'create-repository': { min: 'developer', description: 'Create an image repository in the group' },
    update: { min: 'master', description: 'Change the description' },
    delete: { min: 'owner', description: 'Delete the group (it must hold no repositories)' },
    'manage-members': {
      min: 'master',
      description: 'Add, remove and change members; they apply to every repository of the group',
    },
    'manage-robots': {
      min: 'master',
      description: "Create and delete robot accounts (registry credentials for the group's repositories)",
    },
    'read-activity': { min: 'reporter', description: 'Read the activity feed' },
  },
  'build-project': {
    read: { min: 'guest', description: 'See the build project, its builds and members' },
    'trigger-build': { min: 'developer', description: 'Start a build' },
    'cancel-build': { min: 'developer', description: 'Cancel a running build' },
    update: { min: 'master', description: 'Change the git repository, branch, Dockerfile and target' },
    delete: { min: 'owner', description: 'Delete the build project' },
    'manage-members': {
      min: 'master',
      description: 'Add, remove and change members (not above your own role)',
    },
    'manage-robots': {
      min: 'master',
      description: "Create and delete robot accounts (registry credentials for the project's repository)",
    },
    'read-activity': { min: 'reporter', description: 'Read the activity feed' },
  },
} as const satisfies Record<ResourceKind, Record<string, PermissionRule>>;

/** The permission table: resource kind -> action -> rule. */
export const PERMISSIONS: Record<ResourceKind, Record<string, PermissionRule>> = table;

/** The actions of a resource kind, as a type. */
export type ActionOf<K extends ResourceKind> = keyof (typeof table)[K] & string;
export type ApplicationAction = ActionOf<'application'>;
export type ImageRepositoryAction = ActionOf<'image-repository'>;
export type ImageGroupAction = ActionOf<'image-group'>;
export type BuildProjectAction = ActionOf<'build-project'>;

/** Every action of a kind, in table order. */
export function actionsOf(kind: ResourceKind): string[] {
  return Object.keys(PERMISSIONS[kind]);
}

/** The roles a rule allows, most powerful first. */
export function rolesFor(rule: PermissionRule): Role[] {
  if ('roles' in rule) return ROLES.filter((r) => rule.roles.includes(r));
  return ROLES.filter((r) => roleAtLeast(r, rule.min));
}

/** The rule for an action; throws on an action the table does not know (a bug, not input). */
export function ruleFor(kind: ResourceKind, action: string): PermissionRule {
  const rule = PERMISSIONS[kind][action];
  if (!rule) throw new Error(`no permission rule for ${kind}:${action}`);
  return rule;
}

/** Who is asking, as far as the table cares. */
export interface Grant {
  /** The caller's effective role on the resource, or null when not a member. */
  role: Role | null;
  admin: boolean;
  /** The resource is public (image repositories). */
  public?: boolean;
}

/** May a caller with this grant do `action` on a resource of `kind`? */
export function can(grant: Grant, kind: ResourceKind, action: string): boolean {
  const rule = ruleFor(kind, action);
  if (grant.admin) return true;
  if (grant.role !== null && rolesFor(rule).includes(grant.role)) return true;
  return grant.public === true && rule.public === true;
}

/** May the caller know the resource exists? (Otherwise: 404.) */
export function canSee(grant: Grant, kind: ResourceKind): boolean {
  return grant.admin || grant.role !== null || (grant.public === true && can(grant, kind, 'read'));
}

/** Every action the grant allows on a resource of `kind`. */
export function allowedActions(grant: Grant, kind: ResourceKind): string[] {
  return actionsOf(kind).filter((action) => can(grant, kind, action));
}
