/**
 * The addresses a request's forwarding headers name: `X-Forwarded-For`, `X-Real-IP` and the
 * `for=` of RFC 7239's `Forwarded`. A request that carries any came through a proxy, and these say
 * from where; whether to believe them is the caller's decision.
 */
import type { IncomingHttpHeaders } from 'node:http';

export function relayedFrom(headers: IncomingHttpHeaders): string[] {
  return [
    ...listed(headers['x-forwarded-for']),
    ...listed(headers['x-real-ip']),
    ...listed(headers.forwarded).flatMap(forwardedFor),
  ];
}

function listed(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((line) => line.split(',')).map((entry) => entry.trim());
}

/** `for=192.0.2.60`, `for="[2001:db8::17]:4711"`, `for=unknown`: the address, without port or brackets. */
function forwardedFor(element: string): string[] {
  const match = /(?:^|;)\s*for\s*=\s*"?([^";]*)"?/i.exec(element);
  if (match?.[1] === undefined) return [];
  const node = match[1].trim();
  const bracketed = /^\[([^\]]*)\]/.exec(node);
  if (bracketed?.[1] !== undefined) return [bracketed[1]];
  return [node.split(':').length === 2 ? (node.split(':')[0] ?? node) : node];
}
