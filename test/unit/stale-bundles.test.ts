// images/stale-bundles.ts: which runtime bundles beside this server's may be deleted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUNDLE_GRACE_MS, staleBundles, type BundleEntry, type StaleFacts } from '../../images/stale-bundles.js';

const H = 60 * 60_000;
const now = Date.parse('2025-06-01T12:00:00Z');
const ME = 1000;
const A = 'kiln-runtime-0123456789abcdef';
const B = 'kiln-runtime-fedcba9876543210';
const facts: StaleFacts = { dirs: ['/tmp', '/private/tmp'], current: A, uid: ME, mounted: [], now, graceMs: BUNDLE_GRACE_MS };
/** A directory of this user's, `ageH` hours old. */
const dir = (name: string, ageH = 48, more: Partial<BundleEntry> = {}): BundleEntry => ({ name, directory: true, uid: ME, mtimeMs: now - ageH * H, leased: true, ...more });

const cases: { name: string; entries: BundleEntry[]; facts?: Partial<StaleFacts>; want: string[] }[] = [
  { name: 'an old bundle goes', entries: [dir(B)], want: [B] },
  { name: 'so do an old per-user one and the leftovers of a crashed build or move', entries: [dir(`${B}-u1000`), dir(`${B}.tmp-aB3xYz`), dir(`${B}-u0.old-4242-0a1b2c3d`)], want: [`${B}-u1000`, `${B}.tmp-aB3xYz`, `${B}-u0.old-4242-0a1b2c3d`] },
  { name: 'this server\'s own stays however old', entries: [dir(A), dir(B)], want: [B] },
  { name: 'the current one\'s leftovers go', entries: [dir(`${A}.tmp-000000`)], want: [`${A}.tmp-000000`] },
  { name: 'a bundle within the grace stays', entries: [dir(B, 23.9)], want: [] },
  { name: 'just past the grace it goes', entries: [dir(B, 24.01)], want: [B] },
  { name: 'another user\'s stays', entries: [dir(B, 48, { uid: 0 })], want: [] },
  { name: 'one with no lease mark stays however old (an older Kiln\'s, which never refreshes it)', entries: [dir(B, 24 * 365, { leased: false }), dir(`${B}.old-4242-0a1b2c3d`, 48, { leased: false })], want: [] },
  { name: 'a file of a bundle\'s name stays', entries: [dir(B, 48, { directory: false })], want: [] },
  {
    name: 'names that merely look like one stay',
    entries: ['kiln-runtime-xyz', 'kiln-runtime-0123456789ABCDEF', 'kiln-runtime-0123456789abcde', `${B}-ux`, `${B}.tmp-abc`, `${B}.old-x`, `${B}.bak`, `x${B}`, 'kiln-iofs'].map((n) => dir(n)),
    want: [],
  },
  { name: 'a mounted one stays', entries: [dir(B), dir(`${B}-u1000`)], facts: { mounted: [`/tmp/${B}`] }, want: [`${B}-u1000`] },
  { name: 'so does one with a file of it mounted (the hosts file)', entries: [dir(B)], facts: { mounted: [`/tmp/${B}/hosts`] }, want: [] },
  { name: 'or mounted by the directory\'s resolved path', entries: [dir(B)], facts: { mounted: [`/private/tmp/${B}`] }, want: [] },
  { name: 'a mount of a similar name does not keep it', entries: [dir(B)], facts: { mounted: [`/tmp/${B}-u1000`, `/tmp/${B}.tmp-aaaaaa`, '/other/' + B] }, want: [B] },
];

for (const c of cases) {
  test(c.name, () => {
    assert.deepEqual(staleBundles(c.entries, { ...facts, ...c.facts }), c.want);
  });
}
