export interface SlotBounds {
  /** Tasks running at once. */
  slots: number;
  /** Tasks waiting for a slot, all owners together; one more is refused as `overloaded`. */
  maxWaiting: number;
  /** Tasks of one owner in flight (running or waiting); one more is refused as `owner-busy`. */
  perOwner: number;
}

/** A task refused at once: its owner already has `perOwner` in flight, or `maxWaiting` tasks wait. */
export class SlotRefusedError extends Error {
  override name = 'SlotRefusedError';

  constructor(readonly reason: 'owner-busy' | 'overloaded') {
    super(reason === 'owner-busy' ? 'this owner has too many tasks in flight' : 'too many tasks are waiting');
  }
}

interface Waiter {
  owner: string;
  start: () => void;
}

/**
 * At most `slots` tasks run at once; the rest wait, within the bounds above. A freed slot goes to the
 * waiting task whose owner was served least recently (first come among equals), so one owner's backlog
 * delays another owner's task by at most one task per slot, however many it sends.
 */
export class FairSlots {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly lastServed = new Map<string, number>();
  private served = 0;

  constructor(readonly bounds: SlotBounds) {}

  /** Tasks running and waiting now (for tests and metrics). */
  get load(): { running: number; waiting: number; owners: number } {
    return { running: this.running, waiting: this.waiting.length, owners: this.inFlight.size };
  }

  /** Throws what `run` would throw for `owner` now: lets a caller refuse before it prepares the task. */
  check(owner: string): void {
    if ((this.inFlight.get(owner) ?? 0) >= this.bounds.perOwner) throw new SlotRefusedError('owner-busy');
    const mustWait = this.running >= this.bounds.slots;
    if (mustWait && this.waiting.length >= this.bounds.maxWaiting) throw new SlotRefusedError('overloaded');
  }

  async run<T>(owner: string, task: () => Promise<T>): Promise<T> {
    this.check(owner);
    const mustWait = this.running >= this.bounds.slots;
    this.inFlight.set(owner, (this.inFlight.get(owner) ?? 0) + 1);
    if (mustWait) await new Promise<void>((start) => this.waiting.push({ owner, start }));
    else this.running++;
    this.lastServed.set(owner, ++this.served);
    try {
      return await task();
    } finally {
      this.release(owner);
    }
  }

  private release(owner: string): void {
    const left = (this.inFlight.get(owner) ?? 1) - 1;
    if (left > 0) this.inFlight.set(owner, left);
    else {
      this.inFlight.delete(owner);
      this.lastServed.delete(owner);
    }
    const next = this.nextWaiter();
    // The slot passes straight to the next task, so `running` stays as it is.
    if (next) next.start();
    else this.running--;
  }

  private nextWaiter(): Waiter | undefined {
    let best = -1;
    let bestServed = Infinity;
    this.waiting.forEach((waiter, index) => {
      const served = this.lastServed.get(waiter.owner) ?? 0;
      if (served < bestServed) [best, bestServed] = [index, served];
    });
    return best < 0 ? undefined : this.waiting.splice(best, 1)[0];
  }
}
