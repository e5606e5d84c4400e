-- The region registry: robot accounts (scoped, expiring registry credentials of an image
-- group or a build project) and the pushes the registry reported (tags, digests, sizes,
-- who pushed them), written from the registry's notifications.

create table robot_accounts (
  id integer generated always as identity primary key,
  -- Exactly one owner: an image group (its repositories) or a build project (its repository).
  image_group_id integer references image_groups (id) on delete cascade,
  build_project_id integer references build_projects (id) on delete cascade,
  check ((image_group_id is null) <> (build_project_id is null)),
  name text not null,
  -- What it signs in with: robot$<group>+<name> or robot$build$<project>+<name>.
  username text not null unique,
  description text not null default '',
  -- Registry actions it may hold: a subset of pull, push, delete.
  actions text[] not null,
  -- sha256 of the secret (256 random bits): shown once, never stored.
  secret_hash text not null unique,
  created_by integer not null references users (id),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  last_used_at timestamptz
);
create unique index robot_accounts_group_name on robot_accounts (image_group_id, name)
  where image_group_id is not null;
create unique index robot_accounts_project_name on robot_accounts (build_project_id, name)
  where build_project_id is not null;

-- Registry notification events already recorded: the registry redelivers until it gets
-- a 2xx, so an event seen twice is recorded once.
create table registry_events (
  event_id text primary key,
  received_at timestamptz not null
);

-- One row per manifest pushed under a tag, as the registry's notification said.
create table image_pushes (
  id bigint generated always as identity primary key,
  image_repository_id integer not null references image_repositories (id) on delete cascade,
  tag text not null,
  digest text not null,
  media_type text not null,
  pushed_at timestamptz not null,
  -- Who pushed: a user, or a robot (then user_id is the robot's creator).
  user_id integer references users (id),
  robot_username text
);
create index image_pushes_tag on image_pushes (image_repository_id, tag, id);
