import {
  type Application,
  type BuildProject,
  CreateApplicationSchema,
  CreateBuildProjectSchema,
  CreateImageGroupSchema,
  type ImageGroup,
  type ImageRepository,
  type ResourceKind,
} from '@leengine/common';
import type { z } from 'zod';
import { seg } from './api.ts';

/** A form field of a create dialog. */
export interface FormFieldSpec {
  name: string;
  label: string;
  hint?: string;
  type?: 'text' | 'checkbox';
}

/** What the console needs to know of one resource kind (list, create, link). */
export interface KindSpec<T> {
  kind: ResourceKind;
  title: string;
  plural: string;
  listPath: string;
  createSchema: z.ZodType | null;
  createFields: FormFieldSpec[];
  /** API path of one resource (its access, members, activity hang below it). */
  apiPath(item: T): string;
  /** Console route of one resource. */
  route(item: T): string;
  label(item: T): string;
  summary(item: T): string;
}

export const applicationKind: KindSpec<Application> = {
  kind: 'application',
  title: 'Application',
  plural: 'Applications',
  listPath: '/applications',
  createSchema: CreateApplicationSchema,
  createFields: [
    { name: 'name', label: 'Name', hint: 'a DNS label: it becomes the namespace in every cell' },
    { name: 'description', label: 'Description' },
  ],
  apiPath: (a) => `/applications/${seg(a.name)}`,
  route: (a) => `/applications/${seg(a.name)}`,
  label: (a) => a.name,
  summary: (a) =>
    `${a.region ?? 'no region'} · ${a.cells.map((c) => c.name).join(', ') || 'no cells'} · ${a.allocation.instances} instances`,
};

export const imageGroupKind: KindSpec<ImageGroup> = {
  kind: 'image-group',
  title: 'Image group',
  plural: 'Image groups',
  listPath: '/image-groups',
  createSchema: CreateImageGroupSchema,
  createFields: [
    { name: 'name', label: 'Name', hint: 'the registry namespace, e.g. "team-shop"' },
    { name: 'description', label: 'Description' },
  ],
  apiPath: (g) => `/image-groups/${seg(g.name)}`,
  route: (g) => `/images/${seg(g.name)}`,
  label: (g) => g.name,
  summary: (g) => g.description,
};

export const imageRepositoryKind: KindSpec<ImageRepository> = {
  kind: 'image-repository',
  title: 'Image repository',
  plural: 'Image repositories',
  listPath: '/image-repositories',
  createSchema: null,
  createFields: [],
  apiPath: (r) => `/image-groups/${seg(r.group)}/repositories/${seg(r.name)}`,
  route: (r) => `/images/${seg(r.group)}/${seg(r.name)}`,
  label: (r) => r.fullName,
  summary: (r) => `${r.public ? 'public' : 'private'} · ${r.description}`,
};

export const buildProjectKind: KindSpec<BuildProject> = {
  kind: 'build-project',
  title: 'Build project',
  plural: 'Build projects',
  listPath: '/build-projects',
  createSchema: CreateBuildProjectSchema,
  createFields: [
    { name: 'name', label: 'Name' },
    { name: 'gitUrl', label: 'Git URL', hint: 'https://… or git@host:path' },
    { name: 'branch', label: 'Branch' },
    { name: 'dockerfilePath', label: 'Dockerfile path' },
    { name: 'imageRepository', label: 'Image repository', hint: 'group/name you may push to' },
    { name: 'description', label: 'Description' },
  ],
  apiPath: (b) => `/build-projects/${seg(b.name)}`,
  route: (b) => `/builds/${seg(b.name)}`,
  label: (b) => b.name,
  summary: (b) => `${b.gitUrl} @ ${b.branch} → ${b.imageRepository}`,
};
