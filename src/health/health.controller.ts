import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { HealthResultDto } from './dto/health-result.dto';
import { NotReadyProblemDto } from './dto/not-ready-problem.dto';
import { ShutdownState } from '../http/shutdown-state';
import { DatabaseHealthIndicator } from './database.health';

// Terminus' own documentation gives the 503 its result's shape; this route answers a problem (NotReadyProblemDto).
const TERMINUS = { noCache: true, swaggerDocumentation: false };

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly shutdown: ShutdownState,
  ) {}

  /** Liveness: the process can serve. Never touches the database, so an outage does not restart pods. */
  @Get('live')
  @HealthCheck(TERMINUS)
  @ApiOkResponse({ type: HealthResultDto, description: 'The process can serve.' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Readiness: the database answers within the timeout and no migration is pending. */
  @Get('ready')
  @ApiServiceUnavailableResponse({
    type: NotReadyProblemDto,
    description:
      'Not ready (the database, a pending migration, or shutting down); Terminus `info`, `error` and `details` included.',
  })
  @HealthCheck(TERMINUS)
  @ApiOkResponse({ type: HealthResultDto, description: 'Ready: the database answers and no migration is pending.' })
  async ready(): Promise<HealthCheckResult> {
    if (this.shutdown.draining) {
      // From SIGTERM on, without asking the database: the pod is leaving the load balancer.
      const shuttingDown = { shutdown: { status: 'down' as const, message: 'shutting down' } };
      throw new ServiceUnavailableException({
        message: 'Not ready (shutting down)',
        info: {},
        error: shuttingDown,
        details: shuttingDown,
      });
    }
    try {
      return await this.health.check([() => this.database.check()]);
    } catch (error) {
      throw notReady(error);
    }
  }
}

function notReady(error: unknown): unknown {
  if (!(error instanceof ServiceUnavailableException)) return error;
  const result = error.getResponse() as HealthCheckResult;
  const failing = Object.entries(result.error ?? {}).map(
    ([key, value]) => `${key}: ${String(value?.message ?? 'down')}`,
  );
  return new ServiceUnavailableException({
    message: `Not ready (${failing.join('; ')})`,
    info: result.info,
    error: result.error,
    details: result.details,
  });
}
