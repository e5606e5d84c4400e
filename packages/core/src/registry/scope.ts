/** One requested resource scope: `repository:group/name:pull,push`. */
export interface RequestedScope {
  /** `repository`, `registry`; a class such as `repository(plugin)` is kept apart. */
  type: string;
  class?: string;
  name: string;
  actions: string[];
}

// type[(class)]:name:actions — the name may hold a host:port, so actions follow the last colon.
const SCOPE = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?:(.+):([a-z*]+(?:,[a-z*]+)*)$/;

/**
 * Parses the `scope` parameters of a token request (each may hold several scopes
 * separated by spaces). Returns undefined for any malformed one: the request is refused
 * as a whole rather than half-understood.
 */
export function parseScopes(values: string[]): RequestedScope[] | undefined {
  const scopes: RequestedScope[] = [];
  for (const value of values) {
    for (const part of value.split(' ')) {
      if (part === '') continue;
      if (part.length > 512) return undefined;
      const match = SCOPE.exec(part);
      if (!match) return undefined;
      const [, type, klass, name, actions] = match as unknown as [
        string,
        string,
        string | undefined,
        string,
        string,
      ];
      scopes.push({
        type,
        ...(klass ? { class: klass } : {}),
        name,
        actions: [...new Set(actions.split(','))],
      });
    }
  }
  return scopes;
}
