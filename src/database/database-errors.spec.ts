import { QueryFailedError } from 'typeorm';
import { classifyDatabaseError, isCertificateError } from './database-errors';
import { PoolSaturatedError } from './guarded-pool';

function withCode(code: string, message = `error ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

function queryFailed(driverError: Error): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], driverError);
}

describe('classifyDatabaseError', () => {
  it.each([
    ['ECONNREFUSED', 'unavailable'],
    ['ECONNRESET', 'unavailable'],
    ['ETIMEDOUT', 'unavailable'],
    ['ENOTFOUND', 'unavailable'],
    ['EAI_AGAIN', 'unavailable'],
    ['57P01', 'unavailable'], // admin_shutdown
    ['57P03', 'unavailable'], // cannot_connect_now (starting up)
    ['53300', 'unavailable'], // too_many_connections
    ['08006', 'unavailable'], // connection_failure
    ['08001', 'unavailable'],
    ['25P03', 'unavailable'], // idle_in_transaction_session_timeout
    ['3D000', 'unavailable'], // database does not exist (yet)
    ['57014', 'timeout'], // query_canceled by statement_timeout
  ])('classifies code %s as %s', (code, expected) => {
    expect(classifyDatabaseError(withCode(code))).toBe(expected);
  });

  it.each([
    ['timeout exceeded when trying to connect', 'unavailable'],
    ['Connection terminated unexpectedly', 'unavailable'],
    ['Connection terminated due to connection timeout', 'unavailable'],
    ['Client has encountered a connection error and is not queryable', 'unavailable'],
    ['Cannot use a pool after calling end on the pool', 'unavailable'],
    ['Query read timeout', 'timeout'],
  ])('classifies the node-postgres message "%s" as %s', (message, expected) => {
    expect(classifyDatabaseError(new Error(message))).toBe(expected);
  });

  it('classifies a saturated pool, bare or wrapped', () => {
    expect(classifyDatabaseError(new PoolSaturatedError(50))).toBe('saturated');
    expect(classifyDatabaseError(queryFailed(new PoolSaturatedError(50)))).toBe('saturated');
  });

  it('looks through a QueryFailedError at the driver error', () => {
    expect(classifyDatabaseError(queryFailed(withCode('57P01', 'terminating connection')))).toBe('unavailable');
    expect(classifyDatabaseError(queryFailed(withCode('57014', 'canceling statement')))).toBe('timeout');
  });

  it.each([
    ['a plain Error', new Error('something broke')],
    ['a unique violation', withCode('23505')],
    ['a foreign key violation', queryFailed(withCode('23503'))],
    ['a missing table', queryFailed(withCode('42P01'))],
    ['a syntax error', queryFailed(withCode('42601'))],
    ['an invalid text representation', withCode('22P02')],
    ['an internal error', withCode('XX000')],
    ['a string', 'ECONNREFUSED'],
    ['an object that is not an Error', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }],
    ['null', null],
    ['undefined', undefined],
  ])('leaves %s unclassified (a 500, not a 503)', (_what, error) => {
    expect(classifyDatabaseError(error)).toBeUndefined();
  });
});

describe('isCertificateError', () => {
  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])('recognises %s', (code) => {
    expect(isCertificateError(withCode(code))).toBe(true);
  });

  it.each(['ECONNREFUSED', '28P01', 'ERR_TLS_CERT_ALTNAME_INVALID_X'])('not %s', (code) => {
    expect(isCertificateError(withCode(code))).toBe(false);
  });

  it('ignores errors without a code', () => {
    expect(isCertificateError(new Error('certificate'))).toBe(false);
    expect(isCertificateError(undefined)).toBe(false);
  });
});
