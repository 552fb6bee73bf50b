import { describeError, errorCode } from '../errors.js';

/** One thing that went wrong in a run, named by where: the run goes on with the others. */
export interface Failure {
  repository: string;
  tag?: string;
  digest?: string;
  code: string;
  message: string;
}

export function failure(error: unknown, where: { repository: string; tag?: string; digest?: string }): Failure {
  return { ...where, code: errorCode(error), message: describeError(error) };
}
