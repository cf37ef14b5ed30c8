import { appendFileSync } from 'node:fs';
import type { Response } from 'supertest';
import Test from 'supertest/lib/test';
import { contractOf, isJsonMedia, type ObservedResponse } from './contract';

// Loaded by the e2e project before every spec (jest.config.js, setupFilesAfterEnv): each supertest request
// checks the response it received against the OpenAPI document of the server that sent it (contract.ts),
// after the spec's own .expect() assertions, so every e2e spec is also a contract test. A mismatch rejects
// the request, failing the test that made it with the operation, the status and what differed.
// Raw-socket requests (net, http.request, fetch) are not checked: they test what a client cannot send.
// CONTRACT_MISMATCHES=<file> writes every mismatch there as a JSON line instead of failing the test, to
// list them all in one run of the suite.

type Callback = (this: Test, error: Error | null, res: Response) => void;
type Assert = (this: Test, resError: Error | null, res: Response | undefined, fn: Callback) => void;

const prototype = Test.prototype as unknown as { assert: Assert; contractChecked?: true };

if (!prototype.contractChecked) {
  const assert = prototype.assert;
  prototype.contractChecked = true;
  prototype.assert = function (resError, res, fn) {
    assert.call(this, resError, res, function (this: Test, error, response) {
      if (error || !response) return fn.call(this, error, response);
      checkContract(this, response).then(
        (mismatch) => fn.call(this, mismatch, response),
        (failure: unknown) => fn.call(this, failure as Error, response),
      );
    });
  };
}

export class ContractMismatch extends Error {
  override name = 'ContractMismatch';
}

async function checkContract(test: Test, res: Response): Promise<ContractMismatch | null> {
  const request = test as unknown as { method: string; url: string };
  const observed: ObservedResponse = {
    method: request.method,
    url: request.url,
    status: res.status,
    headers: res.headers as ObservedResponse['headers'],
    body: isJsonMedia(res.headers['content-type']) ? res.body : res.text,
  };
  const { contract, source } = await contractOf(new URL(request.url).origin);
  const problems = await contract.check(observed);
  if (problems.length === 0) return null;
  const log = process.env.CONTRACT_MISMATCHES;
  if (log) {
    const { testPath, currentTestName } = expect.getState();
    const operation = contract.describe(observed);
    const entry = {
      operation,
      status: res.status,
      type: res.headers['content-type'],
      problems,
      testPath,
      currentTestName,
    };
    appendFileSync(log, `${JSON.stringify(entry)}\n`);
    return null;
  }
  return new ContractMismatch(
    `The response does not match the OpenAPI document (${source}):\n` +
      `  ${contract.describe(observed)} answered ${res.status} ${res.headers['content-type'] ?? ''}\n` +
      problems.map((problem) => `  - ${problem}`).join('\n') +
      `\n  body: ${(res.text ?? '').slice(0, 300)}`,
  );
}
