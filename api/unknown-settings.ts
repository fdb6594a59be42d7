// KILN_* variables in the server's environment that are not Kiln's settings: a misspelt
// KILN_NODE_ID would make the server take the host name as its id (and remove every container
// labelled so at start), a misspelt KILN_AUTH_TOKENS leave the API open. Pure.

/** KILN_* names read by something else than the server (the CLI, compose, scripts, tests). */
const NOT_THE_SERVERS = new Set([
  'KILN_CONFIG_DIR',
  'KILN_IMAGE', 'KILN_DOCKERFILE', 'KILN_BUILD_IMAGE', 'KILN_NODE_IMAGE', 'KILN_POSTGRES_IMAGE', 'KILN_DB_PASSWORD',
  'KILN_SHARED_DIR', 'KILN_1_PORT', 'KILN_2_PORT', 'KILN_BIND', 'KILN_NODE_ID_PREFIX',
  'KILN_PG_USER', 'KILN_PG_PASSWORD', 'KILN_MYSQL_USER', 'KILN_MYSQL_PASSWORD', 'KILN_MYSQLD_LOG', 'KILN_DOCKERD_LOG', 'KILN_UP_ONCE',
]);
const NOT_THE_SERVERS_PREFIXES = ['KILN_TEST_', 'KILN_BENCH_'];

/** Levenshtein distance, stopping early past `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/** The setting `name` most likely stands for (within two edits), if any. */
export function nearestSetting(name: string, known: Iterable<string>): string | undefined {
  let found: string | undefined;
  let least = 3;
  for (const k of known) {
    const d = distance(name, k, 2);
    if (d < least) {
      least = d;
      found = k;
    }
  }
  return found;
}

/** The KILN_* names set (non-empty) that the server does not read, sorted, each with the setting it may have meant. */
export function unknownKilnSettings(given: Record<string, string>, read: ReadonlySet<string>): { name: string; meant?: string }[] {
  return Object.keys(given)
    .filter((n) => n.startsWith('KILN_') && !read.has(n) && !NOT_THE_SERVERS.has(n) && !NOT_THE_SERVERS_PREFIXES.some((p) => n.startsWith(p)))
    .sort()
    .map((name) => {
      const meant = nearestSetting(name, read);
      return meant === undefined ? { name } : { name, meant };
    });
}
