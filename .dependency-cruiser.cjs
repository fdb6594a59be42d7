// The folder layout of DESIGN.md §1 ("may import"), checked by `npm run typecheck` (and so by
// `npm test`): each rule forbids what a folder's row does not allow. Where the table is silent
// or wider than the code, the rule says what was decided and why.
/** Our top-level folders other than `f`, as a path pattern. */
const ours = ['api', 'agent', 'drivers', 'store', 'migrations', 'runtime', 'images', 'cli', 'web', 'scripts', 'test', 'bench'];
const outside = (...allowed) => `^(${ours.filter((f) => !allowed.includes(f)).join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'api',
      comment: 'api/ may import agent/, store/, drivers/ (and, from its composition root, images/: below)',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: outside('api', 'agent', 'store', 'drivers', 'images') },
    },
    {
      name: 'api-drivers-docker',
      comment: "api/ uses the driver's contract (drivers/*.ts); the Docker driver itself only the composition root builds (boot.ts) and config.ts reads settings for",
      severity: 'error',
      from: { path: '^api/', pathNot: '^api/(boot|config)\\.ts$' },
      to: { path: '^drivers/docker/' },
    },
    {
      name: 'api-images',
      comment: 'only the composition root (api/boot.ts) uses images/: it prepares the Lambda runtime bundle (images/runtime-bundle.ts, which shares host-image.ts with the base images)',
      severity: 'error',
      from: { path: '^api/', pathNot: '^api/boot\\.ts$' },
      to: { path: '^images/' },
    },
    {
      name: 'api-contract',
      comment: 'api/contract/ is what cli/, web/ and images/ may share with the server: it imports nothing of ours',
      severity: 'error',
      from: { path: '^api/contract/' },
      to: { path: `${outside('api')}|^api/(?!contract/)` },
    },
    {
      name: 'agent',
      comment: "agent/ may import drivers/ (not the Docker driver) and store/ interfaces: types.ts, its typed errors (errors.ts) and how to log them (db-log.ts); of runtime/, only wire.ts, the agent-daemon contract's names (constants, no imports)",
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: `${outside('agent', 'drivers', 'store', 'runtime')}|^drivers/docker/|^store/(?!(types|errors|db-log)\\.ts$)|^runtime/(?!wire\\.ts$)` },
    },
    {
      name: 'drivers',
      comment: 'drivers/ imports nothing of ours',
      severity: 'error',
      from: { path: '^drivers/' },
      to: { path: outside('drivers') },
    },
    {
      name: 'store',
      comment: 'store/ may import migrations/',
      severity: 'error',
      from: { path: '^store/' },
      to: { path: outside('store', 'migrations') },
    },
    {
      name: 'migrations',
      comment: 'migrations/ imports nothing of ours',
      severity: 'error',
      from: { path: '^migrations/' },
      to: { path: outside('migrations') },
    },
    {
      name: 'runtime',
      comment: 'runtime/ imports nothing of ours: it is bundled into one file and runs inside containers',
      severity: 'error',
      from: { path: '^runtime/' },
      to: { path: outside('runtime') },
    },
    {
      name: 'images',
      comment: 'images/ may import api/contract/ (func.yaml checks by the server\'s rules)',
      severity: 'error',
      from: { path: '^images/' },
      to: { path: `${outside('images', 'drivers', 'api')}|^api/(?!contract/)` },
    },
    {
      name: 'images-drivers-types',
      comment: 'images/ may import drivers/ types only',
      severity: 'error',
      from: { path: '^images/' },
      to: { path: '^drivers/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cli',
      comment: 'cli/ speaks the HTTP API; it may import api/contract/ and images/ (for builds)',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: `${outside('cli', 'images', 'api')}|^api/(?!contract/)` },
    },
    {
      name: 'web',
      comment: 'web/ speaks the HTTP API; it may import api/contract/',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: `${outside('web', 'api')}|^api/(?!contract/)` },
    },
    {
      name: 'entry-points',
      comment: 'test/, bench/ and scripts/ may import everything; nothing else imports them',
      severity: 'error',
      from: { path: '^(api|agent|drivers|store|migrations|runtime|images|cli|web)/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import this check cannot resolve would pass every rule unseen',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|data)/' },
    // Type-only imports count: a folder may not lean on another's types either (except where a row says types).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
