-- Pull secrets per application: the credential a cell's containerd pulls the
-- application's images with, and the image repositories it may pull.

-- One registry credential per application, written as the `leengine-pull` Secret into the
-- application's namespace in every cell. Core keeps the secret sealed (it writes it again
-- into every new cell) and its sha256 (the token service finds it by that).
create table application_pull_credentials (
  application_id integer primary key references applications (id) on delete cascade,
  -- What it signs in with: robot$app$<application>.
  username text not null unique,
  -- AES-256-GCM under LEENGINE_SECRET_KEY, bound to the application's id.
  secret_sealed text not null,
  secret_hash text not null unique,
  created_at timestamptz not null
);

-- The repositories an application's credential may pull: each one a deploy used, granted
-- when the deployer could pull it. Removed with the application or the repository.
create table application_image_repositories (
  application_id integer not null references applications (id) on delete cascade,
  image_repository_id integer not null references image_repositories (id) on delete cascade,
  granted_by integer not null references users (id),
  granted_at timestamptz not null,
  primary key (application_id, image_repository_id)
);
create index application_image_repositories_repository on application_image_repositories (image_repository_id);

-- Versions deployed since pull secrets exist reference `leengine-pull` in their pods;
-- earlier ones keep their pod template (changing it would restart them outside a drain).
alter table versions add column pull_secret boolean not null default false;
