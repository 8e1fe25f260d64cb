/** Why the server could not listen, said in terms of the settings that decide it: HOST and PORT. */
import { errorCode } from '../lib/error-code.js';
import { errorSummary } from '../lib/error-summary.js';

export function listenProblem(host: string, port: number, error: unknown): string {
  switch (errorCode(error)) {
    case 'EADDRINUSE':
      return `PORT ${port} on HOST ${host} is in use by another process`;
    case 'EADDRNOTAVAIL':
      return `HOST ${host} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST ${host} does not resolve to an address`;
    case 'EACCES':
      return `PORT ${port} needs privileges this process does not have (ports below 1024)`;
    default:
      return `cannot listen on HOST ${host}, PORT ${port}: ${errorSummary(error).message}`;
  }
}
