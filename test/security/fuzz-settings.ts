/**
 * How many cases each property test runs, and from which seed. `make test` runs a small fixed number from a fixed
 * seed; `make fuzz` sets GATEHOUSE_FUZZ_RUNS, the cases of all properties together, and a fresh GATEHOUSE_FUZZ_SEED.
 * Each property takes its share of the total: those through the network doors a small one (each case is three
 * calls), the in-process ones (config files, CEL conditions) the rest. A failure prints
 * the seed and the path of the shrunk counterexample: rerun with GATEHOUSE_FUZZ_SEED=<seed> GATEHOUSE_FUZZ_PATH=<path>
 * to replay exactly that case. Read when a test file is loaded, never by src/.
 */
import type fc from 'fast-check';

const DEFAULT_SEED = 0x13a7e;

function positiveInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return value;
}

export const FUZZ_SEED = positiveInt('GATEHOUSE_FUZZ_SEED') ?? DEFAULT_SEED;
const FUZZ_RUNS = positiveInt('GATEHOUSE_FUZZ_RUNS');
const FUZZ_PATH = process.env.GATEHOUSE_FUZZ_PATH || undefined;

/** Shares of GATEHOUSE_FUZZ_RUNS, by property; they add up to 1. */
export const FUZZ_SHARES = {
  tokenBytes: 0.03,
  tokenMutation: 0.03,
  action: 0.03,
  attributes: 0.03,
  checkRequest: 0.03,
  httpHeaders: 0.03,
  configFile: 0.4,
  celCondition: 0.42,
} as const;
export type FuzzProperty = keyof typeof FUZZ_SHARES;

/**
 * Runs of one property: `smallRuns` under `make test`, its share of GATEHOUSE_FUZZ_RUNS under `make fuzz`; `fraction`
 * of that for a second, smaller arm of the same property.
 */
export function runsOf(property: FuzzProperty, smallRuns: number, fraction = 1): number {
  return Math.ceil((FUZZ_RUNS === undefined ? smallRuns : FUZZ_RUNS * FUZZ_SHARES[property]) * fraction);
}

/** fast-check parameters for one property (see {@link runsOf}). */
export function fuzzParameters<T>(property: FuzzProperty, smallRuns: number, fraction = 1): fc.Parameters<T> {
  return {
    numRuns: runsOf(property, smallRuns, fraction),
    seed: FUZZ_SEED,
    // The failure's own message in the report (node:test shows no error cause).
    includeErrorInReport: true,
    ...(FUZZ_PATH ? { path: FUZZ_PATH } : {}),
  };
}
