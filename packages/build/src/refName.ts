/**
 * Branch and tag names as git accepts them (`git check-ref-format` rules, applied to the
 * short name), plus one rule of ours: no leading "-", so a name can never be read as an
 * option by git or buildah, and only letters, digits and `. _ / + @ -` (stricter than git:
 * `$(id)` is a valid git branch name, yet in a build system it is only ever an attack). Checked before anything runs; commands get argv arrays anyway.
 */
export function refNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 200) return 'is longer than 200 characters';
  if (name.startsWith('-')) return 'starts with "-"';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) {
    return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  }
  if (!/^[A-Za-z0-9._/+@-]+$/.test(name)) {
    // Stricter than git on purpose: shell metacharacters in a ref name are only ever an attack.
    return 'may only contain letters, digits and . _ / + @ -';
  }
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name === '@') return 'is "@"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty path component';
  if (name.endsWith('.')) return 'ends with "."';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return 'has a path component starting with "."';
    if (component.endsWith('.lock')) return 'has a path component ending with ".lock"';
  }
  return undefined;
}

/** A commit id: 7 to 40 hex digits (abbreviated or full SHA-1), or a full SHA-256. */
export function isCommitId(value: string): boolean {
  return /^[0-9a-f]{7,40}$/.test(value) || /^[0-9a-f]{64}$/.test(value);
}

/** An image tag as the registry accepts it (distribution's reference grammar). */
export function isImageTag(value: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value);
}
