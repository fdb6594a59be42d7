// The lambda-node bootstrap's handler loading, as AWS's runtime interface client loads it (a
// section of one script: see index.ts).

export const LOADER = String.raw`// ---- Loading the handler ----
const root = process.env.LAMBDA_TASK_ROOT || '/var/task';
// The CommonJS loader, also where Node runs this file as an ES module.
const requireHere = builtin('node:module').createRequire(process.argv[1] || path.join(root, 'bootstrap'));

/** The nearest package.json above a folder says "type": "module" (a node_modules folder ends the search). */
function folderIsModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const pj = path.join(folder, '/package.json');
  if (existsSync(pj)) {
    try {
      const pkg = JSON.parse(readFileSync(pj));
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(pj + ' cannot be read, it will be ignored for ES module detection purposes.', e);
      return false;
    }
  }
  if (folder === '/') return false;
  return folderIsModule(path.resolve(folder, '..'));
}

const tryRequire = (file) => (existsSync(file) ? requireHere(file) : undefined);
const tryImport = async (file) => (existsSync(file) ? await import(pathToFileURL(file).href) : undefined);

/**
 * The handler's module, tried in AWS's order: the file as named (CommonJS), then .js (CommonJS,
 * or an ES module under "type": "module"), .mjs, .cjs, and last Node's own resolution from the
 * task root and the handler's folder (node_modules, NODE_PATH).
 */
async function loadModule(moduleRoot, name) {
  const file = path.resolve(root, moduleRoot, name);
  const asIs = tryRequire(file);
  if (asIs) return asIs;
  const esm = existsSync(file + '.js') && folderIsModule(path.dirname(file + '.js'));
  if (!esm) {
    const js = tryRequire(file + '.js');
    if (js) return js;
  }
  const found = (esm && await tryImport(file + '.js')) || await tryImport(file + '.mjs') || tryRequire(file + '.cjs');
  if (found) return found;
  return requireHere(requireHere.resolve(name, { paths: [root, moduleRoot] }));
}

/**
 * The handler _HANDLER names: [dir/]module.export[.nested...]. Its errors are the client's:
 * Runtime.MalformedHandlerName, ImportModuleError (a module not found), UserCodeSyntaxError,
 * HandlerNotFound; an error the module's own code throws is itself.
 */
async function loadHandler(spec) {
  if (spec.includes('..')) throw new MalformedHandlerName("'" + spec + "' is not a valid handler name. Use absolute paths when specifying root directories in handler names.");
  const moduleAndHandler = path.basename(spec);
  const moduleRoot = spec.substring(0, spec.indexOf(moduleAndHandler));
  const match = moduleAndHandler.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, name, handlerPath] = match;
  let mod;
  try {
    mod = await loadModule(moduleRoot, name);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const fn = handlerPath.split('.').reduce((nested, key) => nested && nested[key], mod);
  if (!fn) throw new HandlerNotFound(spec + ' is undefined or not exported');
  if (typeof fn !== 'function') throw new HandlerNotFound(spec + ' is not a function');
  return fn;
}
`;
