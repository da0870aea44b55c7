/**
 * The dashboard (apps/ui) at /ui/: the files Vite built into apps/ui/dist, with index.html for any
 * other path below /ui/ (the dashboard routes in the browser). The files are public; every data
 * call the dashboard makes carries the user's API key. Without a build, /ui/ answers 503 with the
 * command that makes one, so a checkout that skipped it still starts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

export interface UiRouteOptions {
  /** The built dashboard; apps/ui/dist by default. */
  root?: string;
}

const DEFAULT_ROOT = fileURLToPath(new URL('../../../ui/dist', import.meta.url));

// Everything the dashboard loads comes from this origin; uPlot and lit set styles from script.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The dashboard has not been built</h1>
<p>This API serves the dashboard from <code>apps/ui/dist</code>, which does not exist yet.
Build it with <code>npm run build:ui</code> (the demo and test scripts do this for you), then reload.</p>
<p>The API itself works: see <a href="/docs">/docs</a>.</p>
</body></html>`;

const uiRoutes: FastifyPluginAsync<UiRouteOptions> = async (app, options) => {
  const root = options.root ?? DEFAULT_ROOT;
  const sendPage = (reply: FastifyReply) => reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('cache-control', 'no-cache').sendFile('index.html');

  app.get('/ui', { schema: { hide: true } }, (_request, reply) => reply.redirect('/ui/'));

  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn(`dashboard not built (${root} has no index.html): /ui/ answers 503 until \`npm run build:ui\``);
    app.get('/ui/*', { schema: { hide: true } }, (_request, reply) => reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE));
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/ui/',
    index: false,
    wildcard: false, // one route per built file; other paths reach the fallback below
    schemaHide: true,
    cacheControl: false, // set below, per file
    // Vite names assets after their content hash: they never change under the same name.
    setHeaders: (res, path) => {
      res.setHeader('cache-control', path.startsWith(join(root, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // A build's files are routes from the start (wildcard: false): an asset that is not one is missing,
  // e.g. asked for by a page of an older build (the API serves the build it started with).
  app.get('/ui/assets/*', { schema: { hide: true } }, (request, reply) => reply.code(404).type('text/plain; charset=utf-8').send(`${request.url} is not part of this build`));
  // The dashboard's own paths (/ui/, /ui/jobs/<id>, ...) are routes in the browser: all get index.html.
  app.get('/ui/', { schema: { hide: true } }, (_request, reply) => sendPage(reply));
  app.get('/ui/*', { schema: { hide: true } }, (_request, reply) => sendPage(reply));
};

export default uiRoutes;
