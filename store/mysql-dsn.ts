// Where a MySQL DSN's parts lie, as Go's driver reads it (Fn's FN_DB_URL): the database follows
// the last `/`, and the user ends at the last `@` before it (a password may hold `@` and `/`).

export interface DsnSplit {
  /** The last `/`, before the database; -1 when there is none. */
  slash: number;
  /** The last `@` before it, ending the user part; -1 when there is none. */
  at: number;
  /** Between the two: `host:port`, `tcp(host:port)`, `unix(/path)` or empty. */
  address: string;
}

/** Splits `dsn` (a mysql:// URL without its scheme). */
export function splitDsn(dsn: string): DsnSplit {
  const slash = dsn.lastIndexOf('/');
  const end = slash < 0 ? dsn.length : slash;
  const at = dsn.lastIndexOf('@', end);
  return { slash, at, address: dsn.slice(at + 1, end) };
}
