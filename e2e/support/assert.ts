import { KurError } from '../../src/util/errors.js';

/** The KurError a promise rejects with; fails the test when it resolves or throws something else. */
export async function kurFailure(promise: Promise<unknown>): Promise<KurError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KurError) return error;
    throw error;
  }
  throw new Error('expected a KurError, but the call succeeded');
}
