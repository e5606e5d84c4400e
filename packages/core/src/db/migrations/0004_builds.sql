-- Code builds (issue 9): build settings pinned on the platform, builds, their logs.
alter table build_projects
  add column context_path text not null default '.',
  add column compile jsonb,
  add column tag_rule text not null default 'commit' check (tag_rule in ('commit', 'git-tag')),
  add column dockerfile_sha256 text,
  add column branch_filters jsonb not null default '[]',
  add column build_tags boolean not null default true,
  add column timeout_seconds integer not null default 1800,
  -- sha256 of the GitLab webhook secret; builds it triggers are recorded as this user's.
  add column webhook_secret_sha256 text,
  add column webhook_user_id integer references users (id) on delete set null;

create table builds (
  id serial primary key,
  build_project_id integer not null references build_projects (id) on delete cascade,
  number integer not null,
  status text not null check (status in ('queued', 'running', 'succeeded', 'failed', 'canceled')),
  trigger text not null check (trigger in ('manual', 'webhook')),
  triggered_by integer references users (id) on delete set null,
  branch text,
  git_tag text,
  requested_commit text,
  commit text,
  image_tag text,
  image text,
  digest text,
  use_cache boolean not null,
  agent_id text,
  -- Placements so far: a build whose agent died is re-queued once, then failed.
  attempts integer not null default 0,
  steps jsonb not null default '[]',
  failed_step text,
  error text,
  dockerfile_sha256 text,
  created_at timestamptz not null,
  started_at timestamptz,
  finished_at timestamptz,
  unique (build_project_id, number)
);
create index builds_active on builds (status, id) where status in ('queued', 'running');

create table build_logs (
  id bigserial primary key,
  build_id integer not null references builds (id) on delete cascade,
  step text not null,
  text text not null
);
create index build_logs_build on build_logs (build_id, id);
