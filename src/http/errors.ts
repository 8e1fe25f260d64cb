/** The one shape of every error answer: `{ "error": <status text>, "message": <what is wrong> }`. */
import { STATUS_CODES } from 'node:http';

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
}

export function errorBody(status: number, message: string): ErrorBody {
  return { error: STATUS_CODES[status] ?? 'Error', message };
}
