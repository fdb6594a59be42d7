import { badRequest } from './errors.js';

/** A query parameter given at most once; repeated parameters are a 400, not an array. */
export function optionalQuery(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw badRequest(`Invalid ${name}: give it once`);
  return v;
}
