// The part of the `semver` package (CommonJS, no bundled types) the CLI uses.
declare module 'semver' {
  const semver: {
    /** Whether `version` is in `range` (prereleases only when the range names one). */
    satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
    /** The range normalised, or null when it is not a semver range (a URL, a tag, `file:`). */
    validRange(range: string): string | null;
  };
  export default semver;
}
