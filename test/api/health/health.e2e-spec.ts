import { startTestApp, type TestApp } from '../../support/app';

describe('health probes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers liveness without the database', async () => {
    const res = await t.api.get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
  });

  it('answers readiness with database, migrations and pool details', async () => {
    const res = await t.api.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.details.database.status).toBe('up');
    expect(res.body.details.migrations).toEqual({ status: 'up', pending: 0 });
    expect(res.body.details.pool).toEqual(
      expect.objectContaining({
        status: 'up',
        max: 10,
        total: expect.any(Number),
        idle: expect.any(Number),
        waiting: 0,
      }),
    );
  });
});
