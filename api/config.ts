// Settings are read once, here, into a typed object; nothing else reads process.env.
// Names follow Fn's where Fn has the same setting, so an Fn operator's environment carries over.
import { z } from 'zod';

const MiB = 1024 * 1024;

/** A decimal integer setting within [min, max]; unset or empty means the default. */
const intFrom = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const envSchema = z.object({
  FN_PORT: intFrom(8080, 0, 65535),
  FN_HOST: z.string().default('0.0.0.0'),
  FN_DB_URL: z.string().default('sqlite3://./data/fn.db'),
  FN_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  // Fn's default is unlimited (0); Kiln sets a real one, Lambda's 6 MB payload limit.
  FN_MAX_REQUEST_SIZE: intFrom(6 * MiB, 0),
  // When set, endpoint annotations use this base URL instead of the request's own host.
  FN_PUBLIC_LB_URL: z.string().url().optional(),
});

export interface Config {
  port: number;
  host: string;
  dbUrl: string;
  logLevel: z.infer<typeof envSchema>['FN_LOG_LEVEL'];
  /** Bytes; 0 means no limit. */
  maxRequestSize: number;
  publicUrl: string | undefined;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  // An empty variable (`FN_PUBLIC_LB_URL=`) means unset, as in a shell.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid settings: ${detail}`);
  }
  const e = parsed.data;
  return {
    port: e.FN_PORT,
    host: e.FN_HOST,
    dbUrl: e.FN_DB_URL,
    logLevel: e.FN_LOG_LEVEL,
    maxRequestSize: e.FN_MAX_REQUEST_SIZE,
    publicUrl: e.FN_PUBLIC_LB_URL?.replace(/\/+$/, ''),
  };
}
