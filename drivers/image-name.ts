// Image references parsed the way Docker reads them (distribution's reference grammar plus
// its docker.io normalisation), so Kiln can compare and report images by one canonical name.

export interface ImageRef {
  /** Registry host, with port if given; `docker.io` when the reference names none. */
  registry: string;
  /** Repository path inside the registry; `library/<name>` for Docker Hub's official images. */
  repo: string;
  /** `latest` when the reference gives none (also when it gives only a digest). */
  tag: string;
  /** `algorithm:hex`, e.g. `sha256:…`, when the reference pins one. */
  digest?: string;
}

export class ImageRefError extends Error {
  constructor(readonly ref: string, readonly reason: string) {
    // JSON quoting makes stray whitespace or control characters visible in the message.
    super(`invalid image reference ${JSON.stringify(ref)}: ${reason}`);
    this.name = 'ImageRefError';
  }
}

const DEFAULT_REGISTRY = 'docker.io';
const DEFAULT_TAG = 'latest';
// Docker caps the name (registry and path, without tag or digest) at 255 characters.
const MAX_NAME_LENGTH = 255;
const MAX_TAG_LENGTH = 128;

// A host is DNS-like labels or a bracketed IPv6 address, optionally with a numeric port.
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const REGISTRY_RE = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
// Lowercase alphanumerics joined by ".", "_", "__" or runs of "-".
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[a-fA-F0-9]{32,}$/;
// The registered algorithms have a fixed, lowercase hex length; other algorithms only get
// the grammar check, as Docker's reference parser does.
// (A Map, so an algorithm named like an Object.prototype member can't match.)
const DIGEST_HEX_LENGTH = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

/** Parses `[registry/]path[:tag][@digest]`; throws ImageRefError when Docker would refuse it. */
export function parseImage(ref: string): ImageRef {
  const fail = (reason: string): never => {
    throw new ImageRefError(ref, reason);
  };
  if (ref === '') fail('it is empty');
  if (/\s/.test(ref)) fail('it contains whitespace');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(digest, fail);
  }

  // Only a colon after the last slash starts a tag; earlier ones belong to a registry port.
  let tag = DEFAULT_TAG;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === '') fail('the tag after ":" is empty');
    if (tag.length > MAX_TAG_LENGTH) fail(`the tag is longer than ${MAX_TAG_LENGTH} characters`);
    if (!TAG_RE.test(tag)) {
      fail(`tag "${tag}" may only contain letters, digits, "_", "." and "-", and must not start with "." or "-"`);
    }
  }

  if (rest === '') fail('it names no repository');
  if (rest.length > MAX_NAME_LENGTH) fail(`the name is longer than ${MAX_NAME_LENGTH} characters`);
  const segments = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  const head = segments[0] ?? '';
  // Docker's rule: a first segment is a host only if it looks like one, so "fnproject/hello"
  // is a Docker Hub user, not a registry called fnproject.
  if (segments.length > 1 && (head.includes('.') || head.includes(':') || head === 'localhost')) {
    segments.shift();
    if (!REGISTRY_RE.test(head)) fail(`registry "${head}" is not a valid host[:port]`);
    // Docker treats the legacy index host as Docker Hub itself.
    registry = head === 'index.docker.io' ? DEFAULT_REGISTRY : head;
  }

  for (const segment of segments) {
    if (segment === '') fail('the repository path has an empty component (a leading, trailing or doubled "/")');
    if (segment !== segment.toLowerCase()) fail(`repository path component "${segment}" must be lowercase`);
    if (!PATH_COMPONENT_RE.test(segment)) {
      fail(
        `repository path component "${segment}" may only contain lowercase letters and digits, ` +
          'joined by ".", "_", "__" or "-"',
      );
    }
  }
  // Docker Hub keeps official images under library/, so "node" and "library/node" are one image.
  if (registry === DEFAULT_REGISTRY && segments.length === 1) segments.unshift('library');

  const parsed: ImageRef = { registry, repo: segments.join('/'), tag };
  if (digest !== undefined) parsed.digest = digest;
  return parsed;
}

/** The canonical `registry/repo:tag[@digest]`; equal images format to equal strings. */
export function formatImage(ref: ImageRef): string {
  const name = `${ref.registry}/${ref.repo}:${ref.tag}`;
  return ref.digest === undefined ? name : `${name}@${ref.digest}`;
}

function checkDigest(digest: string, fail: (reason: string) => never): void {
  if (digest === '') fail('the digest after "@" is empty');
  if (!DIGEST_RE.test(digest)) fail(`digest "${digest}" is not of the form algorithm:hex`);
  const algorithm = digest.slice(0, digest.indexOf(':'));
  const length = DIGEST_HEX_LENGTH.get(algorithm);
  const hex = digest.slice(algorithm.length + 1);
  if (length !== undefined && !new RegExp(`^[a-f0-9]{${length}}$`).test(hex)) {
    fail(`a ${algorithm} digest must be ${length} lowercase hex characters`);
  }
}
