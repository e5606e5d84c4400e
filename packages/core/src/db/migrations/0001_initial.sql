-- leengine-core's first schema: users and credentials, the four resources with their
-- members, the activity record, quotas. The same file runs on PostgreSQL and PGlite.
-- Times are written by core (from its clock), never by now() defaults, so that cursors
-- and tests see exactly what core wrote.

create table users (
  id integer generated always as identity primary key,
  username text not null unique,
  display_name text not null default '',
  email text,
  password_hash text not null,
  admin boolean not null default false,
  disabled boolean not null default false,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

-- Login sessions of the console: the cookie holds a random secret, this table its sha256.
create table sessions (
  secret_hash text primary key,
  user_id integer not null references users (id) on delete cascade,
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index sessions_user on sessions (user_id);
create index sessions_expiry on sessions (expires_at);

-- Personal access tokens (CLI, CI): shown once, stored as sha256 of the secret.
create table access_tokens (
  id integer generated always as identity primary key,
  user_id integer not null references users (id) on delete cascade,
  name text not null,
  secret_hash text not null unique,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index access_tokens_user on access_tokens (user_id, id);

-- ---- the four resources. Roles are checked here too, so no bad row gets in by hand.

create table applications (
  id integer generated always as identity primary key,
  name text not null unique,
  description text not null default '',
  created_by integer not null references users (id),
  -- What the running versions hold, kept by deploy/scale; summed for the creator's quota.
  instances integer not null default 0 check (instances >= 0),
  cpu_millicores integer not null default 0 check (cpu_millicores >= 0),
  memory_mib integer not null default 0 check (memory_mib >= 0),
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index applications_created_by on applications (created_by);
create index applications_created_at on applications (created_at, id);

create table application_members (
  application_id integer not null references applications (id) on delete cascade,
  user_id integer not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'master', 'developer', 'reporter', 'guest')),
  created_at timestamptz not null,
  primary key (application_id, user_id)
);
create index application_members_user on application_members (user_id, application_id);

create table image_groups (
  id integer generated always as identity primary key,
  name text not null unique,
  description text not null default '',
  created_by integer not null references users (id),
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create table image_group_members (
  image_group_id integer not null references image_groups (id) on delete cascade,
  user_id integer not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'master', 'developer', 'reporter', 'guest')),
  created_at timestamptz not null,
  primary key (image_group_id, user_id)
);
create index image_group_members_user on image_group_members (user_id, image_group_id);

create table image_repositories (
  id integer generated always as identity primary key,
  -- A group with repositories cannot be deleted (restrict): deleting images is explicit.
  group_id integer not null references image_groups (id) on delete restrict,
  name text not null,
  description text not null default '',
  public boolean not null default false,
  created_by integer not null references users (id),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  unique (group_id, name)
);
create index image_repositories_public on image_repositories (id) where public;

create table image_repository_members (
  image_repository_id integer not null references image_repositories (id) on delete cascade,
  user_id integer not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'master', 'developer', 'reporter', 'guest')),
  created_at timestamptz not null,
  primary key (image_repository_id, user_id)
);
create index image_repository_members_user on image_repository_members (user_id, image_repository_id);

create table build_projects (
  id integer generated always as identity primary key,
  name text not null unique,
  description text not null default '',
  git_url text not null,
  branch text not null,
  dockerfile_path text not null,
  -- A repository that a build project pushes to cannot be deleted from under it.
  image_repository_id integer not null references image_repositories (id) on delete restrict,
  created_by integer not null references users (id),
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index build_projects_repository on build_projects (image_repository_id);

create table build_project_members (
  build_project_id integer not null references build_projects (id) on delete cascade,
  user_id integer not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'master', 'developer', 'reporter', 'guest')),
  created_at timestamptz not null,
  primary key (build_project_id, user_id)
);
create index build_project_members_user on build_project_members (user_id, build_project_id);

-- ---- activity ("dynamic"): who did what, when, with which parameters, and how it ended.
-- No foreign key to the resource: the record outlives it (a deleted application's history
-- stays readable by admins and in its actors' feeds).
create table activity (
  id bigint generated always as identity primary key,
  at timestamptz not null,
  actor_id integer not null references users (id),
  resource_kind text not null
    check (resource_kind in ('application', 'image-repository', 'image-group', 'build-project', 'user')),
  resource_id integer,
  resource_name text not null,
  action text not null,
  params jsonb not null default '{}',
  result text not null check (result in ('succeeded', 'failed')),
  error text
);
create index activity_resource on activity (resource_kind, resource_id, id);
create index activity_actor on activity (actor_id, id);
create index activity_counted on activity (action, at) where result = 'succeeded';

-- ---- quotas: one row of defaults, and per-user overrides (null = the default).
create table quota_defaults (
  id integer primary key check (id = 1),
  applications integer not null check (applications >= 0),
  instances integer not null check (instances >= 0),
  cpu_millicores integer not null check (cpu_millicores >= 0),
  memory_mib integer not null check (memory_mib >= 0)
);
insert into quota_defaults (id, applications, instances, cpu_millicores, memory_mib)
values (1, 10, 40, 20000, 40960);

create table user_quotas (
  user_id integer primary key references users (id) on delete cascade,
  applications integer check (applications >= 0),
  instances integer check (instances >= 0),
  cpu_millicores integer check (cpu_millicores >= 0),
  memory_mib integer check (memory_mib >= 0)
);
