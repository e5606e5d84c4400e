/**
 * CNI error codes (spec 1.1, "Error"): 1-99 are the spec's own; plugin-specific
 * codes start at 100.
 */
export const CniCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  /** No free address (segment exhausted, or the fixed pool is full). */
  exhausted: 100,
  /** Creating the veth pair, addresses or routes failed. */
  networkSetup: 101,
  /** CHECK found the attachment differs from what ADD set up. */
  checkFailed: 102,
  /** The IPAM state in etcd is not what it must be (e.g. a corrupt value). */
  ipamState: 103,
} as const;

/** An error the plugin reports in the spec's format: `{cniVersion, code, msg, details}`. */
export class CniError extends Error {
  readonly code: number;
  readonly details: string | undefined;

  constructor(code: number, msg: string, details?: string, options?: { cause?: unknown }) {
    super(msg, options);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }

  toJson(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return {
      cniVersion,
      code: this.code,
      msg: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}
