/** A component failed to start or to answer: names it and carries its log tail. */
export class ComponentError extends Error {
  readonly component: string;
  readonly logTail: string;

  constructor(component: string, message: string, logTail = '', options?: { cause?: unknown }) {
    const tail = logTail.trim() ? `\n--- ${component} log (last lines) ---\n${logTail.trimEnd()}\n---` : '';
    super(`${component}: ${message}${tail}`, options);
    this.name = 'ComponentError';
    this.component = component;
    this.logTail = logTail;
  }
}
