/** Keys whose values never reach an activity record. */
const SECRET_KEY = /pass(word)?|secret|token|credential|private.?key|authorization/i;

/** A copy of `params` with every secret-looking field's value replaced by "***", at any depth. */
export function redact(params: unknown): unknown {
  if (Array.isArray(params)) return params.map(redact);
  if (params && typeof params === 'object') {
    return Object.fromEntries(
      Object.entries(params).map(([key, value]) => [key, SECRET_KEY.test(key) ? '***' : redact(value)]),
    );
  }
  return params;
}
