-- Applications on cells: regions and their cells (Kubernetes clusters), where each
-- application runs, its versions (the desired state the cell reconciler drives every cell
-- toward, with the status it observed), tracked operations (gray upgrade, rollback,
-- scaling) and the events collected from the cells.

create table regions (
  id integer generated always as identity primary key,
  name text not null unique,
  description text not null default '',
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create table cells (
  id integer generated always as identity primary key,
  -- A region with cells cannot be deleted; a cell with applications cannot either.
  region_id integer not null references regions (id) on delete restrict,
  name text not null unique,
  description text not null default '',
  -- The admin kubeconfig, sealed with AES-256-GCM under LEENGINE_SECRET_KEY.
  kubeconfig_sealed text not null,
  server text not null,
  -- No new placements on a cordoned cell.
  cordoned boolean not null default false,
  health text not null default 'unknown' check (health in ('unknown', 'healthy', 'unreachable')),
  health_message text not null default '',
  health_checked_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index cells_region on cells (region_id, name);

alter table applications add column region_id integer references regions (id) on delete restrict;

-- Where an application runs. 'leaving': being evacuated; removed from the cell once the
-- replacement cell runs its versions.
create table application_cells (
  application_id integer not null references applications (id) on delete cascade,
  cell_id integer not null references cells (id) on delete restrict,
  state text not null default 'active' check (state in ('active', 'leaving')),
  -- The cell reconciler's last run for this application in this cell.
  synced_at timestamptz,
  sync_error text,
  created_at timestamptz not null,
  primary key (application_id, cell_id)
);
create index application_cells_cell on application_cells (cell_id, application_id);

create table versions (
  id integer generated always as identity primary key,
  application_id integer not null references applications (id) on delete cascade,
  number integer not null,
  name text not null,
  image_repository text not null,
  image_tag text not null,
  -- What the cells pull: registry host/repository:tag.
  image text not null,
  port integer not null check (port between 1 and 65535),
  cpu_request integer not null,
  cpu_limit integer not null,
  memory_request integer not null,
  memory_limit integer not null,
  -- [{name, value, secret}]; a secret's value is sealed like kubeconfigs.
  env jsonb not null default '[]',
  health_check jsonb,
  -- Seconds between SIGTERM and SIGKILL when an instance stops.
  termination_grace_seconds integer not null default 30,
  -- Desired instances per cell name: {"local-1": 2}.
  replicas jsonb not null default '{}',
  state text not null check (state in ('active', 'retired')),
  created_by integer not null references users (id),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  unique (application_id, number),
  unique (application_id, name)
);
create index versions_active on versions (application_id) where state = 'active';

-- A version's workload in a cell as the reconciler last observed it.
create table version_cells (
  version_id integer not null references versions (id) on delete cascade,
  cell_id integer not null references cells (id) on delete cascade,
  present boolean not null,
  desired integer not null,
  ready integer not null,
  -- Pods of the workload that are not terminating.
  current integer not null,
  observed_at timestamptz not null,
  primary key (version_id, cell_id)
);

create table operations (
  id integer generated always as identity primary key,
  application_id integer not null references applications (id) on delete cascade,
  kind text not null check (kind in ('deploy', 'rollback', 'scale')),
  state text not null check (state in ('running', 'rolling-back', 'succeeded', 'failed', 'aborted')),
  version_id integer not null references versions (id) on delete cascade,
  -- Versions a deploy or rollback replaces: [id, ...].
  replaces jsonb not null default '[]',
  -- Kind-specific inputs (scale: the target instances per cell and the chosen pods).
  params jsonb not null default '{}',
  -- [{name, title, state, progress, message, startedAt, finishedAt}].
  steps jsonb not null,
  error text,
  deadline timestamptz,
  created_by integer not null references users (id),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  finished_at timestamptz
);
-- One operation at a time per application.
create unique index operations_one_running on operations (application_id)
  where state in ('running', 'rolling-back');
create index operations_feed on operations (application_id, id);

-- Kubernetes events from the application's namespaces in every cell (cell '' for the
-- platform's own), kept up to date by uid while they repeat.
create table application_events (
  id bigint generated always as identity primary key,
  application_id integer not null references applications (id) on delete cascade,
  cell text not null,
  uid text not null,
  type text not null,
  reason text not null,
  message text not null,
  object text not null,
  count integer not null,
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  unique (application_id, cell, uid)
);
create index application_events_feed on application_events (application_id, last_seen, id);
