// The ranges of a fn's numbers, with Fn's defaults and maxima: a pure module, so the CLI's
// checks of func.yaml and of its options (before anything is built or changed) apply the
// server's own rules (api/models/fn.ts), as names.ts does for names.

export const FN_LIMITS = {
  memory: { def: 128, max: 8192 },
  timeout: { def: 30, max: 300 },
  idle_timeout: { def: 30, max: 3600 },
} as const;

export type FnLimitField = keyof typeof FN_LIMITS;

const UNITS: Record<FnLimitField, string> = { memory: 'MB', timeout: 'seconds', idle_timeout: 'seconds' };

/** A fn's value once defaulted (as stored): 1 to the field's maximum. */
export const fnValueInRange = (field: FnLimitField, value: number): boolean => value >= 1 && value <= FN_LIMITS[field].max;

/** The range in words: "1 to 300 seconds". */
export const fnRangeText = (field: FnLimitField): string => `1 to ${FN_LIMITS[field].max} ${UNITS[field]}`;

/**
 * Why the server would refuse a whole number given for `field`, or undefined. As Fn, 0 counts
 * as not given (the default on a create, no change on an update), so it passes.
 */
export function fnInputProblem(field: FnLimitField, value: number): string | undefined {
  if (value === 0 || fnValueInRange(field, value)) return undefined;
  return `${value} is out of range: it must be ${fnRangeText(field)} (0 counts as not given; the default is ${FN_LIMITS[field].def})`;
}
