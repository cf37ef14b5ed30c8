import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostgresServerOptions } from './postgres-server';

export interface Pki {
  dir: string;
  caFile: string;
  otherCaFile: string;
  ca: string;
  cert: string;
  key: string;
}

/** A throw-away CA and a server certificate for localhost and 127.0.0.1 (and a second, unrelated CA). */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'tasks-api-pki-'));
  chmodSync(dir, 0o755);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tasks-api test CA');
  ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=other CA');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other.crt'),
    ca: read('ca.crt'),
    cert: read('server.crt'),
    key: read('server.key'),
  };
}

/** A server that accepts TLS only, with the PKI's server certificate; SCRAM over TLS from 127.0.0.1. */
export function tlsOnlyServer(pki: Pki): PostgresServerOptions {
  return {
    settings: { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' },
    hba: ['hostssl all all 127.0.0.1/32 scram-sha-256', 'hostnossl all all 0.0.0.0/0 reject'],
    files: { 'server.crt': pki.cert, 'server.key': pki.key },
    clientSsl: { ca: pki.ca },
  };
}
