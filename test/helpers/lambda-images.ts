// Lambda-format fixture images: a fixture directory is the image's file tree (var/task,
// opt/extensions, ...), copied FROM a Kiln base image. Cached by content like the others.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { ensureNodeBaseImage } from '../../images/base-image.js';
import { inspectImage } from '../../images/inspect.js';
import { readProgress } from '../../images/progress.js';
import { ensureShellBaseImage } from '../../images/shell-image.js';
import { buildFixtureTag, hashTree, projectRoot, sharedBuilds } from './images.js';

export type LambdaFixture = 'blog-demo' | 'node-runtime' | 'node-hello' | 'shell-entrypoint' | 'node-ric' | 'shell-hog';

const BASE: Record<LambdaFixture, 'shell' | 'node'> = {
  'blog-demo': 'shell', 'node-runtime': 'node', 'node-hello': 'node', 'shell-entrypoint': 'shell', 'node-ric': 'node', 'shell-hog': 'shell',
};
/**
 * Extra Dockerfile lines: images whose own entrypoint is the runtime, like AWS base images; one
 * with a NODE_OPTIONS meant for its runtime that no Node could start with (Kiln's daemon must).
 */
const EXTRA: Partial<Record<LambdaFixture, string>> = {
  'shell-entrypoint': 'WORKDIR /srv\nENV NODE_OPTIONS="--require /nonexistent/preload.cjs"\nENTRYPOINT ["/usr/local/bin/my-runtime"]\nCMD ["my.handler"]\n',
  'node-ric': 'ENTRYPOINT ["/usr/local/bin/node", "/opt/ric/bin/index.mjs"]\nCMD ["index.handler"]\n',
};
/** Files from this project's node_modules copied into the image: the AWS client as npm ships it. */
const PACKAGES: Partial<Record<LambdaFixture, { from: string; to: string; paths: string[] }>> = {
  'node-ric': { from: 'aws-lambda-ric', to: 'opt/ric', paths: ['package.json', 'bin', 'dist'] },
};
const RECIPE = '1';

export const lambdaFixtureDir = (name: LambdaFixture): string => join(projectRoot(), 'test', 'fixtures', 'lambda', name);

/** A build context: `dockerfile`, the tree under `root` as rootfs/, and each extra file or tree under its prefix. */
export async function packTree(pack: tar.Pack, root: string, dockerfile: string, extra: { dir: string; prefix: string }[] = []): Promise<void> {
  const entry = (h: Partial<tar.Header> & { name: string }, data?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (data) pack.entry(h, data, cb);
      else pack.entry(h, cb);
    });
  const df = Buffer.from(dockerfile);
  await entry({ name: 'Dockerfile', size: df.length, mode: 0o644 }, df);
  const walk = async (dir: string, base = root, prefix = 'rootfs'): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const st = await lstat(abs);
      const rel = `${prefix}/${relative(base, abs)}`;
      if (st.isDirectory()) {
        await entry({ name: `${rel}/`, type: 'directory', mode: 0o755 });
        await walk(abs, base, prefix);
      } else if (st.isFile()) {
        // Executables stay executable; everything is readable by uid 1000.
        const mode = st.mode & 0o111 ? 0o755 : 0o644;
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ name: rel, size: st.size, mode }, (err) => (err ? reject(err) : resolve()));
          createReadStream(abs).on('error', reject).pipe(sink as unknown as NodeJS.WritableStream);
        });
      }
    }
  };
  await walk(root);
  for (const e of extra) {
    const st = await lstat(e.dir);
    if (st.isDirectory()) {
      await entry({ name: `${e.prefix}/`, type: 'directory', mode: 0o755 });
      await walk(e.dir, e.dir, e.prefix);
    } else {
      await entry({ name: e.prefix, mode: 0o644 }, await readFile(e.dir));
    }
  }
  pack.finalize();
}

async function build(name: LambdaFixture, client: Docker): Promise<string> {
  const base = BASE[name] === 'shell' ? await ensureShellBaseImage(client) : await ensureNodeBaseImage(client);
  const baseInfo = await inspectImage(client, base);
  if (!baseInfo) throw new Error(`base image ${base} vanished`);
  const pkg = PACKAGES[name];
  const pkgDir = pkg && join(projectRoot(), 'node_modules', pkg.from);
  const dockerfile = `FROM ${base}\nCOPY rootfs/ /\n${pkg ? `COPY pkg/ /${pkg.to}/\n` : ''}WORKDIR /var/task\n${EXTRA[name] ?? ''}`;
  const h = createHash('sha256').update(`${RECIPE}\n${baseInfo.Id}\n${dockerfile}`);
  await hashTree(h, lambdaFixtureDir(name));
  // Only what is copied (the package's build tree under deps/ is large and irrelevant).
  for (const p of pkg && pkgDir ? pkg.paths : []) {
    const abs = join(pkgDir!, p);
    if ((await lstat(abs)).isDirectory()) await hashTree(h, abs);
    else h.update(await readFile(abs));
  }
  const repo = `kiln-test/lambda-${name}`;
  const tag = `${repo}:${h.digest('hex').slice(0, 12)}`;
  return buildFixtureTag(client, repo, tag, async () => {
    const pack = tar.pack();
    const extra = pkg && pkgDir ? pkg.paths.map((p) => ({ dir: join(pkgDir, p), prefix: `pkg/${p}` })) : [];
    const writing = packTree(pack, lambdaFixtureDir(name), dockerfile, extra);
    const res = await client.buildImage(pack as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true });
    await Promise.all([readProgress(res), writing]);
  });
}

/** The fixture's image tag, built when missing (concurrent callers share one build). */
export const lambdaFixtureImage = sharedBuilds(build);
