// The web view's static files at /ui/: index.html, app.js and app.css, built by `npm run
// build` into dist/web/. Read once at start-up and served from memory; only these three are
// served, so nothing else under dist/web/ (compiled test imports, say) is ever exposed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import { sendRouteError } from '../errors.js';
import { MethodNotAllowedError } from '../route-errors.js';

/** The files the web view is made of, with their content types. */
export const UI_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export interface UiAsset {
  body: Buffer;
  type: string;
  etag: string;
}

export type UiAssets = ReadonlyMap<string, UiAsset>;

export class UiMissingError extends Error {}

/** Reads the built files from `dir`; a missing one is a UiMissingError naming it. */
export function loadUiAssets(dir: string): UiAssets {
  const assets = new Map<string, UiAsset>();
  for (const [name, type] of Object.entries(UI_FILES)) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch (err) {
      throw new UiMissingError(`web view file ${join(dir, name)} is missing (run \`npm run build\`): ${(err as Error).message}`);
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, type, etag });
  }
  return assets;
}

/**
 * The page talks to this origin's API only and loads nothing from elsewhere; data from the
 * API is only ever set as text, and this policy is a second line should that slip.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Whether If-None-Match names this ETag (a list, or `*`). */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}

/**
 * Mounted at /ui, so only requests under it run this. `/ui` redirects to `/ui/` (the page's
 * relative links need the slash); an unknown file falls through to the API's 404.
 */
export function uiHandler(assets: UiAssets): RequestHandler {
  return (req, res, next) => {
    const [fullPath = '', query] = req.originalUrl.split(/\?(.*)/s, 2);
    if (fullPath.toLowerCase() === '/ui') {
      res.redirect(302, `/ui/${query ? `?${query}` : ''}`);
      return;
    }
    const asset = assets.get(req.path === '/' ? 'index.html' : req.path.slice(1));
    if (!asset) {
      next();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendRouteError(res, new MethodNotAllowedError(req.method, fullPath, ['GET', 'HEAD']));
      return;
    }
    // Not content-hashed names, so every use revalidates; a match costs a 304 with no body.
    res.set({
      'Cache-Control': 'no-cache',
      'ETag': asset.etag,
      'X-Content-Type-Options': 'nosniff',
    });
    if (asset.type.startsWith('text/html')) {
      // A function's trigger page is on this origin too (/t/): with its own browsing context
      // group, a view such a page opened is out of its reach (no handle on it, nor on the token
      // typed into it).
      res.set({ 'Content-Security-Policy': CSP, 'Referrer-Policy': 'same-origin', 'Cross-Origin-Opener-Policy': 'same-origin' });
    }
    if (notModified(req.get('if-none-match'), asset.etag)) {
      res.status(304).end();
      return;
    }
    res.set({ 'Content-Type': asset.type, 'Content-Length': String(asset.body.length) });
    if (req.method === 'HEAD') res.end();
    else res.end(asset.body);
  };
}
