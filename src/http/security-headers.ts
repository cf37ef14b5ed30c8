import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { HttpConfig } from '../config/app.config';

type Directives = Record<string, string[]>;

// OWASP's profile for JSON APIs: a response opened as a document may load, run and be framed by nothing.
const API_CSP: Directives = { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] };

// Swagger UI loads its bundle, stylesheet and init script from /docs and calls the API on this origin
// ("Try it out"). @nestjs/swagger's page has two inline <style> blocks and takes no nonce, hence the
// 'unsafe-inline' for styles only; scripts stay 'self'. test/ops/docs-browser.e2e-spec.ts runs it in Chromium.
const DOCS_CSP: Directives = {
  ...API_CSP,
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/** Helmet's headers as every response carries them; `/docs` pages swap in their own CSP. */
export function securityHeaderOptions(http: Pick<HttpConfig, 'hstsMaxAgeS'>): HelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Browsers ignore HSTS over plain HTTP, and behind a TLS-terminating ingress the app never sees HTTPS:
    // whoever knows the public side is HTTPS says so with HSTS_MAX_AGE_S.
    strictTransportSecurity: http.hstsMaxAgeS > 0 ? { maxAge: http.hstsMaxAgeS, includeSubDomains: true } : false,
  };
}

/**
 * Registers @fastify/helmet on the root instance, ahead of every other hook, so API answers, 404s,
 * problem+json errors and Fastify's own 4xx all carry the headers. Routes in `docsPages` get DOCS_CSP.
 */
export async function registerSecurityHeaders(
  fastify: FastifyInstance,
  options: HelmetOptions,
  docsPages: readonly string[],
): Promise<void> {
  // Runs before @fastify/helmet's own onRoute hook, which reads the `helmet` route option set here.
  fastify.addHook('onRoute', (route) => {
    if (docsPages.includes(route.url)) {
      route.helmet = { contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP } };
    }
  });
  await fastify.register(fastifyHelmet, options);
}

/**
 * The same headers as a plain record, for the answers that never pass Fastify's hooks: router errors
 * (`frameworkErrors`) and requests Node's HTTP parser rejects (written straight to the socket).
 */
export function staticSecurityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}
