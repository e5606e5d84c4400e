/**
 * Kubernetes resource quantities ("250m", "2", "512Mi", "1G", "1e3") as the numbers
 * LeEngine counts in: CPU in millicores, memory in MiB.
 */

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/** The quantity's value in base units (cores, bytes); NaN when it is not a quantity. */
export function parseQuantity(text: string): number {
  const match = QUANTITY.exec(text.trim());
  if (!match) return Number.NaN;
  const [, number, suffix, exponent] = match;
  const value = Number(number);
  if (exponent !== undefined) return value * 10 ** Number(exponent);
  if (suffix === undefined) return value;
  return value * (BINARY[suffix] ?? DECIMAL[suffix] ?? Number.NaN);
}

/** CPU quantity in millicores (rounded up: "0.0001" is 1m); 0 when absent or invalid. */
export function cpuMillicores(text: string | undefined): number {
  const value = text === undefined ? 0 : parseQuantity(text);
  return Number.isFinite(value) ? Math.ceil(Math.round(value * 1e6) / 1e3) : 0;
}

/** Memory quantity in MiB (rounded down); 0 when absent or invalid. */
export function memoryMib(text: string | undefined): number {
  const value = text === undefined ? 0 : parseQuantity(text);
  return Number.isFinite(value) ? Math.floor(value / 2 ** 20) : 0;
}
