import { RouteConfig } from '@nestjs/platform-fastify';

/** What JwtAuthGuard reads from a route's Fastify config (`request.routeOptions.config`). */
export interface PublicRouteConfig {
  public?: boolean;
}

/**
 * Opts a route of the API out of the bearer-token check (JwtAuthGuard). A method decorator only: Fastify
 * carries a handler's config to its route, not its class's, and a check skipped by mistake must not be.
 */
export const Public = (): MethodDecorator => RouteConfig({ public: true } satisfies PublicRouteConfig);
