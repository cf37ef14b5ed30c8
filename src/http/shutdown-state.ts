import { Injectable } from '@nestjs/common';

/**
 * Where the process is in its shutdown: `draining` once SIGTERM arrives (readiness answers 503 but
 * requests are still served, so load balancers move away), `closing` once the server stops taking
 * requests (late arrivals on kept-alive connections get 503 and `Connection: close`).
 */
@Injectable()
export class ShutdownState {
  private phase: 'serving' | 'draining' | 'closing' = 'serving';

  get draining(): boolean {
    return this.phase !== 'serving';
  }

  get closing(): boolean {
    return this.phase === 'closing';
  }

  drain(): void {
    if (this.phase === 'serving') this.phase = 'draining';
  }

  close(): void {
    this.phase = 'closing';
  }
}
