// Images the docker-compose test runs instead of the registry's `node:20-bookworm-slim` and
// `postgres:16`, which cannot be pulled here: host files imported with `docker import`
// (images/host-image.ts), cached by content as `kiln-test/` images like the fixtures.
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { addLibraries, addSystemFiles, ensureHostImage, ImageTree, sharedLibraries } from '../../images/host-image.js';
import { sharedBuilds } from './images.js';

/** Bump when a recipe below changes. */
const RECIPE = '1';

/**
 * The Kiln server's base: node, plus bash and glibc's `ldd` script, which the server runs to
 * collect the Lambda runtime bundle (images/runtime-bundle.ts). kiln/node has neither.
 */
async function buildServerBase(_key: 'server', client: Docker): Promise<string> {
  const tree = new ImageTree();
  const node = await realpath(process.execPath);
  const st = await stat(node);
  tree.file('/usr/local/bin/node', node, st.mode, st.size);
  // ldd says #!/bin/bash; hostFile keeps a merged-/usr host's /bin link.
  for (const path of ['/usr/bin/ldd', '/bin/bash']) await tree.hostFile(path);
  const libs = new Set([...(await sharedLibraries(node)), ...(await sharedLibraries('/bin/bash'))]);
  const extraLibDirs = await addLibraries(tree, [...libs].sort());
  addSystemFiles(tree);
  const changes = ['ENV PATH=/usr/local/bin:/usr/bin:/bin'];
  if (extraLibDirs.length) changes.push(`ENV LD_LIBRARY_PATH=${extraLibDirs.join(':')}`);
  return ensureHostImage(client, {
    repo: 'kiln-test/compose-node',
    tree,
    changes,
    recipe: `kiln-test-compose-node ${RECIPE}`,
    source: `${node}, bash and ldd`,
  });
}

/** The newest PostgreSQL under /usr/lib/postgresql (scripts/postgres.sh installs Debian's). */
async function hostPostgres(): Promise<{ version: string; bin: string; lib: string; share: string }> {
  const versions = (await readdir('/usr/lib/postgresql').catch(() => [] as string[])).filter((v) => /^\d+$/.test(v));
  const version = versions.sort((a, b) => Number(a) - Number(b)).pop();
  if (!version) throw new Error('no PostgreSQL under /usr/lib/postgresql: run scripts/postgres.sh (it installs Debian\'s postgresql)');
  const root = `/usr/lib/postgresql/${version}`;
  return { version, bin: `${root}/bin`, lib: `${root}/lib`, share: `/usr/share/postgresql/${version}` };
}

async function addHostDir(tree: ImageTree, dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await addHostDir(tree, path);
    else await tree.hostFile(path);
  }
}

/**
 * What the official image's entrypoint does that the compose file relies on: on an empty
 * data directory, initdb with POSTGRES_USER / POSTGRES_PASSWORD, password logins over TCP
 * from anywhere, and POSTGRES_DB made (in single-user mode: no temporary server to wait for).
 * Only sh builtins besides initdb and postgres: the image has no other tools.
 */
const ENTRYPOINT = `#!/bin/sh
set -eu
: "\${POSTGRES_USER:=postgres}"
: "\${POSTGRES_DB:=$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "\${POSTGRES_PASSWORD:-}" ]; then echo "kiln-test postgres: POSTGRES_PASSWORD is required" >&2; exit 1; fi
  printf '%s\\n' "$POSTGRES_PASSWORD" | initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/dev/stdin \\
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync >/dev/null
  printf 'host all all all scram-sha-256\\n' >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\\n" >>"$PGDATA/postgresql.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    printf 'CREATE DATABASE "%s"\\n' "$POSTGRES_DB" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "kiln-test postgres: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)" >&2
fi
exec postgres -D "$PGDATA" "$@"
`;

/**
 * A stand-in for `postgres:16` built from the host's PostgreSQL: the server, initdb and
 * pg_isready (the compose healthcheck), the share directory, the server's modules but the
 * JIT (it links LLVM, ~100 MB; without it the server just does not JIT), run as a
 * non-root `postgres` user, which PostgreSQL requires.
 */
async function buildPostgres(_key: 'postgres', client: Docker): Promise<string> {
  const pg = await hostPostgres();
  const tree = new ImageTree();
  const binaries = ['postgres', 'initdb', 'pg_isready'].map((b) => `${pg.bin}/${b}`);
  const modules = (await readdir(pg.lib)).filter((f) => f.endsWith('.so') && !f.startsWith('llvmjit')).map((f) => `${pg.lib}/${f}`);
  const libs = new Set<string>();
  for (const path of [...binaries, '/bin/sh']) {
    await tree.hostFile(path);
    for (const lib of await sharedLibraries(path)) libs.add(lib);
  }
  for (const path of modules) {
    // A contrib module whose library the host lacks (e.g. libxml2) is left out: the server
    // only loads one when an extension asks for it.
    const needs = await sharedLibraries(path).catch(() => null);
    if (!needs) continue;
    await tree.hostFile(path);
    for (const lib of needs) libs.add(lib);
  }
  await addHostDir(tree, pg.share);
  await tree.hostFile('/usr/share/zoneinfo/UTC');
  const extraLibDirs = await addLibraries(tree, [...libs].sort());
  addSystemFiles(tree);
  // After addSystemFiles, whose /etc/passwd this replaces.
  tree.data('/etc/passwd', 'root:x:0:0:root:/root:/sbin/nologin\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\n');
  tree.data('/etc/group', 'root:x:0:\npostgres:x:999:\n');
  tree.data('/usr/local/bin/docker-entrypoint.sh', ENTRYPOINT, 0o755);
  // World-writable (sticky) as the tar's entries are root's: the volume mounted here takes
  // this mode, and initdb makes PGDATA below it as the postgres user.
  tree.dir('/var/lib/postgresql/data', 0o1777);
  tree.dir('/var/run/postgresql', 0o1777);

  const changes = [
    `ENV PATH=/usr/local/bin:${pg.bin}:/usr/bin:/bin`,
    'ENV PGDATA=/var/lib/postgresql/data/pgdata',
    'ENV TZ=UTC',
    'USER postgres',
    'EXPOSE 5432',
    'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
  ];
  if (extraLibDirs.length) changes.push(`ENV LD_LIBRARY_PATH=${extraLibDirs.join(':')}`);
  return ensureHostImage(client, {
    repo: 'kiln-test/postgres',
    tree,
    changes,
    recipe: `kiln-test-postgres ${RECIPE}`,
    labels: { 'io.kiln.postgres-version': pg.version },
    source: `the host's PostgreSQL ${pg.version}`,
  });
}

const serverBase = sharedBuilds(buildServerBase);
const postgres = sharedBuilds(buildPostgres);

/** `kiln-test/compose-node:<hash>`: the base the compose test builds the Kiln image on. */
export const composeServerBase = (client?: Docker): Promise<string> => serverBase('server', client);
/** `kiln-test/postgres:<hash>`: the compose test's PostgreSQL. */
export const composePostgres = (client?: Docker): Promise<string> => postgres('postgres', client);
