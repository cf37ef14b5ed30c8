import { FairSlots, SlotRefusedError } from './fair-slots';

/** A task that runs until the test finishes it, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: (value: string) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<string>((resolve, reject) => ([finish, fail] = [resolve, reject]));
  return { task: () => (log.push(name), done), finish: () => finish(name), fail: (error: Error) => fail(error) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SlotRefusedError);
  return (error as SlotRefusedError).reason;
}

describe('FairSlots', () => {
  it('runs at most `slots` tasks at once, first come first served among owners, passing results and errors on', async () => {
    const slots = new FairSlots({ slots: 2, maxWaiting: 10, perOwner: 10 });
    const started: string[] = [];
    const gates = ['a', 'b', 'c', 'd'].map((name) => gate(started, name));
    const results = Promise.allSettled(gates.map((g, i) => slots.run(`owner-${i}`, g.task)));
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect(slots.load).toEqual({ running: 2, waiting: 2, owners: 4 });

    gates[1].fail(new Error('b failed'));
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    gates[0].finish();
    gates[2].finish();
    gates[3].finish();
    const settled = await results;
    expect(settled.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'a',
      'b failed',
      'c',
      'd',
    ]);
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(slots.load).toEqual({ running: 0, waiting: 0, owners: 0 });
  });

  it('refuses an owner past `perOwner` in flight at once, counting its waiting tasks, and admits it again later', async () => {
    const slots = new FairSlots({ slots: 1, maxWaiting: 10, perOwner: 2 });
    const started: string[] = [];
    const [first, second] = [gate(started, 'first'), gate(started, 'second')];
    const running = [slots.run('ada', first.task), slots.run('ada', second.task)];
    expect(await refusal(slots.run('ada', async () => 'third'))).toBe('owner-busy');
    // Another owner is not affected.
    const other = slots.run('bob', async () => 'bob');

    first.finish();
    await tick();
    // One of Ada's two has finished: she may send another.
    const third = slots.run('ada', async () => 'third, later');
    second.finish();
    expect(await Promise.all([...running, other, third])).toEqual(['first', 'second', 'bob', 'third, later']);
    expect(slots.load).toEqual({ running: 0, waiting: 0, owners: 0 });
  });

  it('refuses any task that would wait past `maxWaiting`, and none that can start at once', async () => {
    const slots = new FairSlots({ slots: 1, maxWaiting: 2, perOwner: 5 });
    const started: string[] = [];
    const gates = [0, 1, 2].map((i) => gate(started, `t${i}`));
    const admitted = gates.map((g, i) => slots.run(`owner-${i}`, g.task));
    expect(await refusal(slots.run('late', async () => 'late'))).toBe('overloaded');
    expect(slots.load).toEqual({ running: 1, waiting: 2, owners: 3 });

    for (const g of gates) g.finish();
    await Promise.all(admitted);
    expect(await slots.run('late', async () => 'late')).toBe('late');
  });

  it("serves a newcomer before an owner's backlog: it waits for the running task only", async () => {
    const slots = new FairSlots({ slots: 1, maxWaiting: 10, perOwner: 10 });
    const started: string[] = [];
    const backlog = [0, 1, 2, 3].map((i) => gate(started, `ada-${i}`));
    const ada = backlog.map((g) => slots.run('ada', g.task));
    const bob = gate(started, 'bob-0');
    const bobDone = slots.run('bob', bob.task);
    await tick();
    expect(started).toEqual(['ada-0']);

    backlog[0].finish();
    await tick();
    expect(started).toEqual(['ada-0', 'bob-0']);
    // Bob's next task, sent while Ada's backlog waits, again goes after one of Ada's.
    bob.finish();
    await bobDone;
    const bobAgain = gate(started, 'bob-1');
    const bobAgainDone = slots.run('bob', bobAgain.task);
    await tick();
    backlog[1].finish();
    await tick();
    expect(started).toEqual(['ada-0', 'bob-0', 'ada-1', 'bob-1']);

    bobAgain.finish();
    for (const g of backlog.slice(2)) g.finish();
    await Promise.all([...ada, bobAgainDone]);
    expect(started).toEqual(['ada-0', 'bob-0', 'ada-1', 'bob-1', 'ada-2', 'ada-3']);
    expect(slots.load).toEqual({ running: 0, waiting: 0, owners: 0 });
  });
});
