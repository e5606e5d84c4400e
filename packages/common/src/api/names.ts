import { z } from 'zod';

/**
 * Names and free-text fields as the API accepts them. Names end up in Kubernetes
 * namespaces, registry paths, nginx config and git command lines, so they are checked
 * against a strict pattern here, once, and never escaped later.
 */

/** A DNS label (RFC 1123), the form of a Kubernetes namespace. */
export const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Namespaces Kubernetes or the platform itself use; no application may take them. */
export const RESERVED_APPLICATION_NAMES: readonly string[] = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'leengine',
];
const RESERVED_PREFIXES = ['kube-', 'leengine-'];

export function isReservedApplicationName(name: string): boolean {
  return RESERVED_APPLICATION_NAMES.includes(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p));
}

/** True when `s` holds a control character (C0, DEL, C1) other than those in `allowed`. */
export function hasControlCharacters(s: string, allowed = ''): boolean {
  for (const ch of s) if (/\p{Cc}/u.test(ch) && !allowed.includes(ch)) return true;
  return false;
}

/** Printable text of at most `max` characters. */
function text(max: number, multiline = false) {
  const allowed = multiline ? '\n\t' : '';
  return z
    .string()
    .max(max)
    .refine((s) => !hasControlCharacters(s, allowed), { message: 'must not contain control characters' });
}

export const ApplicationNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting with a letter')
  .refine((name) => !isReservedApplicationName(name), { message: 'is reserved' });

/** A registry path component (group or repository name) in the Docker distribution grammar. */
const REGISTRY_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export const ImageGroupNameSchema = z
  .string()
  .min(2)
  .max(63)
  .regex(
    REGISTRY_COMPONENT,
    'must be lowercase letters and digits, separated by ".", "_", "__" or "-" (a registry path component)',
  );

export const ImageRepositoryNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    REGISTRY_COMPONENT,
    'must be lowercase letters and digits, separated by ".", "_", "__" or "-" (a registry path component)',
  );

export const BuildProjectNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting with a letter');

export const UsernameSchema = z
  .string()
  .min(2)
  .max(40)
  .regex(
    /^[a-z][a-z0-9._-]*[a-z0-9]$/,
    'must be lowercase letters, digits, ".", "_" or "-", starting with a letter',
  );

export const PasswordSchema = z.string().min(10).max(256);

export const DisplayNameSchema = text(100);
export const DescriptionSchema = text(1000, true);
/** A name for a personal access token ("laptop", "ci"). */
export const TokenNameSchema = text(100).pipe(z.string().min(1));

/** A git remote: https://, ssh:// or scp-like git@host:path; no spaces or shell characters. */
export const GitUrlSchema = z
  .string()
  .max(500)
  .regex(
    /^(?:https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/|file:\/\/\/|ssh:\/\/[A-Za-z0-9._-]+@[A-Za-z0-9.-]+(?::\d{1,5})?\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)[A-Za-z0-9._~/-]+$/,
    // file:/// only reaches repositories on build hosts that allow it (tests, the local region).
    'must be an http(s)://, ssh://, user@host:path or file:/// git URL without spaces or special characters',
  )
  .refine((url) => !url.split(/[/:]/).includes('..'), { message: 'must not contain ".." segments' });

/** A git branch name (a safe subset of git-check-ref-format). */
export const BranchSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be letters, digits, ".", "_", "/" or "-"')
  .refine((b) => !b.includes('..') && !b.includes('//') && !b.endsWith('.lock') && !b.endsWith('/'), {
    message: 'is not a valid branch name',
  });

/** A path inside the build context: relative, no "..", no leading "/". */
export const RelativePathSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(
    /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/,
    'must be a relative path of letters, digits, ".", "_", "-"',
  )
  .refine((p) => !p.split('/').some((segment) => segment === '..' || segment === '.'), {
    message: 'must not contain "." or ".." segments',
  });
