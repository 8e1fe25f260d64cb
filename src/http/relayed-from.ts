/**
 * The addresses a request's forwarding headers name, without ports: `X-Forwarded-For`, `X-Real-IP`
 * and the `for=` of RFC 7239's `Forwarded`. A request that carries any came through a proxy, and these say
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
  return (Array.isArray(value) ? value : [value]).flatMap((line) => line.split(',')).map((entry) => withoutPort(entry.trim()));
}

/** `for=192.0.2.60`, `for="[2001:db8::17]:4711"`, `for=unknown`: the address, without port or brackets. */
function forwardedFor(element: string): string[] {
  const match = /(?:^|;)\s*for\s*=\s*"?([^";]*)"?/i.exec(element);
  return match?.[1] === undefined ? [] : [withoutPort(match[1].trim())];
}

/**
 * An address as a forwarding header may write it, with a port (`192.0.2.60:51234`, as Azure's
 * Application Gateway writes X-Forwarded-For) or in brackets (`[2001:db8::17]:4711`): the address
 * alone. An IPv6 address without brackets has several colons and is left as it is.
 */
export function withoutPort(node: string): string {
  if (node.startsWith('[')) {
    const end = node.indexOf(']');
    return end === -1 ? node : node.slice(1, end);
  }
  const colon = node.indexOf(':');
  return colon !== -1 && colon === node.lastIndexOf(':') ? node.slice(0, colon) : node;
}
