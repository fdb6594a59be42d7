// The names of the per-container socket directories under FN_IOFS_PATH. Several nodes on one
// host may share the base, so each name carries a short tag of its node id: a start (and a
// stop) can then tell its own leftovers from another node's.
import { createHash } from 'node:crypto';

/** Characters of the tag: 8 hex digits of sha256(node id), enough to tell a host's nodes apart. */
const TAG_LENGTH = 8;

/** The node's tag in its socket directories' names. */
export function nodeTag(nodeId: string): string {
  return createHash('sha256').update(nodeId).digest('hex').slice(0, TAG_LENGTH);
}

/** What mkdtemp is given: it adds six characters. */
export function socketDirPrefix(nodeId: string): string {
  return `c${nodeTag(nodeId)}-`;
}

/** The longest name a socket directory gets (for the socket path's length check). */
export const SOCKET_DIR_PLACEHOLDER = `c${'0'.repeat(TAG_LENGTH)}-XXXXXX`;

/** `c` + tag + `-` + mkdtemp's six; or, as Kiln named them before tags, `c` + six. */
const TAGGED = new RegExp(`^c([0-9a-f]{${TAG_LENGTH}})-[A-Za-z0-9]{6}$`);
const UNTAGGED = /^c[A-Za-z0-9]{6}$/;

/** Whether `name` is a socket directory's name, of this Kiln or of one before tags. */
export function isSocketDirName(name: string): boolean {
  return TAGGED.test(name) || UNTAGGED.test(name);
}

/** The node tag a socket directory's name carries; undefined for an untagged or foreign name. */
export function socketDirTag(name: string): string | undefined {
  return TAGGED.exec(name)?.[1];
}
