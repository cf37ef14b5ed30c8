import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from 'nestjs-pino';
import { loadConfig } from './config/configuration';
import { ConfigError } from './config/env.validation';
import { createApp } from './app.factory';
import { isCertificateError } from './database/database-errors';
import { describeConnection } from './database/data-source.options';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './database/embedded-postgres';
import { runMigrations } from './database/run-migrations';
import { ShutdownState } from './http/shutdown-state';
import { listenForMetrics, type MetricsListener } from './metrics/metrics-listener';

async function bootstrap(): Promise<void> {
  const config = loadConfig();

  let embedded: EmbeddedPostgres | undefined;
  if (!config.database.url) {
    // Development on a fresh clone: a real PostgreSQL under .data/, migrated on start.
    embedded = await startEmbeddedPostgres({ ...config.database.embedded, log: (message) => console.log(message) });
    config.database.url = config.database.migrationsUrl = embedded.url;
    await runMigrations(config.database);
  }

  // Checked before Nest starts, so a bad URL (e.g. a timeout as a startup parameter on a pooled host) is
  // one "Configuration error" line rather than a stack trace from the module graph.
  const database = describeConnection(config.database);
  const app = await createApp(config);
  const logger = app.get(Logger);
  if (config.auth.jwtSecretGenerated) {
    logger.warn('JWT_SECRET is not set: using a random secret, so tokens stop working when the process restarts');
  }
  if (config.http.trustProxy === true) {
    logger.warn('TRUST_PROXY=true: any client can choose its address with X-Forwarded-For (refused in production)');
  }
  logger.log(`database: ${database.text}${embedded ? ` (embedded, data in ${embedded.dataDir})` : ''}`);
  if (database.warning) logger.warn(database.warning);

  let metrics: MetricsListener | undefined;
  const state = app.get(ShutdownState);
  const { shutdownDrainMs, shutdownTimeoutMs } = config.http;
  // SIGTERM: readiness turns 503 at once; requests are served through the drain so load balancers can
  // move away; then the server stops accepting, in-flight requests finish, the pool closes, exit 0.
  const shutdown = async (signal: NodeJS.Signals) => {
    if (state.draining) {
      if (signal === 'SIGINT') process.exit(130); // a second Ctrl-C does not wait
      return;
    }
    state.drain();
    logger.log(`${signal} received: draining for ${shutdownDrainMs} ms, then closing`);
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${shutdownTimeoutMs} ms after the drain; exiting`);
      process.exit(1);
    }, shutdownDrainMs + shutdownTimeoutMs).unref();
    await sleep(shutdownDrainMs);
    state.close();
    await metrics?.close();
    await app.close();
    await embedded?.stop();
    logger.log('shut down cleanly');
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));

  const { host, metricsPort } = config.http;
  if (metricsPort !== undefined) {
    metrics = await listenForMetrics(app.getHttpAdapter().getInstance(), host, metricsPort);
    logger.log(`metrics on http://${host}:${metrics.port}/metrics`);
  }
  await app.listen(config.http.port, host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.log(`listening on http://${host}:${port}${config.http.docsEnabled ? ' (docs at /docs)' : ''}`);
}

bootstrap().catch((error: unknown) => {
  // One line naming the problem (a ConfigError names the variable); no stack for expected failures.
  const message =
    error instanceof ConfigError
      ? `Configuration error: ${error.message}`
      : `Start-up failed: ${String((error as Error)?.message ?? error)}`;
  const hint = isCertificateError(error)
    ? " (the database's certificate did not verify: trust its CA with sslrootcert=<file> in the URL or NODE_EXTRA_CA_CERTS)"
    : '';
  console.error(`${message}${hint}`);
  process.exit(1);
});
