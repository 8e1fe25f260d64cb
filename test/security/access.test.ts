import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Environment } from '../../src/config/config.js';
import { createTestApp, deliveredReport } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
const apps: App[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await testDb.drop();
});

async function appWith(env: Environment): Promise<App> {
  const app = await createTestApp(testDb.database, env);
  apps.push(app);
  return app;
}

let sequence = 0;
async function deliver(app: App, remoteAddress: string, headers: Record<string, string> = {}) {
  sequence += 1;
  return app.inject({
    method: 'POST',
    url: '/dlr',
    remoteAddress,
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(deliveredReport({ id: `access-${sequence}` })),
  });
}

async function reportCount(): Promise<number> {
  const row = await testDb.database.db.selectFrom('reports').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  return row.count;
}

describe('who may deliver reports', () => {
  it('is, by default, the LINK hosts of Appendix 1 and nobody else', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: undefined });
    for (const address of ['62.67.62.101', '195.84.162.34', '213.242.87.73', '::ffff:217.163.95.201']) {
      expect((await deliver(app, address)).statusCode, address).toBe(200);
    }
    const before = await reportCount();
    for (const address of ['127.0.0.1', '62.67.62.100', '8.8.8.8', '::1']) {
      const response = await deliver(app, address);
      expect(response.statusCode, address).toBe(403);
      expect(response.json()).toMatchObject({ error: 'Forbidden' });
    }
    expect(await reportCount()).toBe(before);
    const rejected = await app.inject({ method: 'GET', url: '/rejected' });
    expect(rejected.json<{ rejected: Array<{ remoteAddress: string }> }>().rejected.map((row) => row.remoteAddress)).not.toContain('8.8.8.8');
  });

  it('keeps a report sent to a wrong path among the rejected requests when its caller may deliver, and nobody else\'s', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: '62.67.62.101' });
    const payload = JSON.stringify(deliveredReport({ id: 'stray-report' }));
    const stray = (remoteAddress: string, url: string) =>
      app.inject({ method: 'POST', url, remoteAddress, headers: { 'content-type': 'application/json' }, payload });
    const rejectedPaths = async () =>
      (await app.inject({ method: 'GET', url: '/rejected' })).json<{ rejected: Array<{ path: string; remoteAddress: string }> }>().rejected;

    const fromLink = await stray('62.67.62.101', '/DLR');
    expect(fromLink.statusCode).toBe(404);
    expect(fromLink.json()).toEqual({ error: 'Not Found', message: 'no route POST /DLR: reports are taken at /dlr and /dlr/{gate}' });
    expect(await rejectedPaths()).toContainEqual(
      expect.objectContaining({ path: '/DLR', remoteAddress: '62.67.62.101', reason: 'no route POST /DLR: reports are taken at /dlr and /dlr/{gate}', body: payload }),
    );
    expect((await app.inject({ method: 'GET', url: '/messages/stray-report' })).statusCode).toBe(404);

    const fromStranger = await stray('8.8.8.8', '/api/dlr');
    expect(fromStranger.json()).toEqual({ error: 'Not Found', message: 'no route POST /api/dlr' });
    expect((await rejectedPaths()).map((row) => row.path)).not.toContain('/api/dlr');

    // With the check off, anyone may deliver, and a scanner's 404s would push the real refusals out.
    const open = await appWith({ DLR_ALLOWED_IPS: '*' });
    await open.inject({ method: 'POST', url: '/wp-login.php', remoteAddress: '8.8.4.4', payload: 'x' });
    const kept = (await open.inject({ method: 'GET', url: '/rejected' })).json<{ rejected: Array<{ path: string }> }>().rejected;
    expect(kept.map((row) => row.path)).not.toContain('/wp-login.php');
  });

  it('takes IPv4 and IPv6 CIDR ranges', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: '10.1.0.0/16, 2001:db8::/32' });
    expect((await deliver(app, '10.1.200.3')).statusCode).toBe(200);
    expect((await deliver(app, '::ffff:10.1.0.9')).statusCode).toBe(200);
    expect((await deliver(app, '2001:db8:1::5')).statusCode).toBe(200);
    expect((await deliver(app, '10.2.0.1')).statusCode).toBe(403);
    expect((await deliver(app, '2001:db9::1')).statusCode).toBe(403);
  });

  it('ignores X-Forwarded-For when TRUST_PROXY is unset', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: 'linkmobility' });
    expect((await deliver(app, '203.0.113.9', { 'x-forwarded-for': '62.67.62.101' })).statusCode).toBe(403);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: 'linkmobility', TRUST_PROXY: '10.0.0.0/8' });
    expect((await deliver(app, '10.0.0.5', { 'x-forwarded-for': '62.67.62.101' })).statusCode).toBe(200);
    expect((await deliver(app, '10.0.0.5', { 'x-forwarded-for': '8.8.8.8' })).statusCode).toBe(403);
    // A spoofed header from a caller that is not a trusted proxy changes nothing.
    expect((await deliver(app, '203.0.113.9', { 'x-forwarded-for': '62.67.62.101' })).statusCode).toBe(403);
    // A client cannot prepend an allowed address in front of its own through the proxy.
    expect((await deliver(app, '10.0.0.5', { 'x-forwarded-for': '62.67.62.101, 8.8.8.8' })).statusCode).toBe(403);
  });

  it('reads the client a trusted proxy names with a port, as Azure\'s Application Gateway writes it, as its address alone', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: 'linkmobility,2001:db8::/32', TRUST_PROXY: '10.0.0.0/8' });
    expect((await deliver(app, '10.0.0.5', { 'x-forwarded-for': '62.67.62.101:51234' })).statusCode).toBe(200);
    expect((await deliver(app, '10.0.0.5', { 'x-forwarded-for': '[2001:db8::7]:443' })).statusCode).toBe(200);
    const stranger = await deliver(app, '10.0.0.5', { 'x-forwarded-for': '8.8.8.8:51234' });
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json()).toEqual({ error: 'Forbidden', message: '8.8.8.8 may not deliver reports' });
    // The port of the client's own entry does not let it prepend an allowed address.
    expect((await deliver(app, '10.0.0.5', { 'x-forwarded-for': '62.67.62.101:80, 8.8.8.8:51234' })).statusCode).toBe(403);
    const refused = await app.inject({ method: 'POST', url: '/dlr', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': '62.67.62.101:51234', 'content-type': 'application/json' }, payload: '{}' });
    expect(refused.statusCode).toBe(400);
    const rejected = (await app.inject({ method: 'GET', url: '/rejected?limit=1' })).json<{ rejected: Array<{ remoteAddress: string }> }>().rejected;
    expect(rejected[0]?.remoteAddress).toBe('62.67.62.101');
  });

  it('takes loopback in TRUST_PROXY for a proxy on this machine', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: 'linkmobility', TRUST_PROXY: 'loopback' });
    for (const proxy of ['127.0.0.1', '::1']) {
      expect((await deliver(app, proxy, { 'x-forwarded-for': '62.67.62.101' })).statusCode, proxy).toBe(200);
      expect((await deliver(app, proxy, { 'x-forwarded-for': '8.8.8.8' })).statusCode, proxy).toBe(403);
    }
    expect((await deliver(app, '10.0.0.5', { 'x-forwarded-for': '62.67.62.101' })).statusCode).toBe(403);
  });

  it('takes a hop count for TRUST_PROXY', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: 'linkmobility', TRUST_PROXY: '1' });
    expect((await deliver(app, '192.0.2.1', { 'x-forwarded-for': '62.67.62.101' })).statusCode).toBe(200);
    expect((await deliver(app, '192.0.2.1', { 'x-forwarded-for': '62.67.62.101, 8.8.8.8' })).statusCode).toBe(403);
    // 62.67.62.101 as one number or in octal is not how a proxy names a caller.
    expect((await deliver(app, '192.0.2.1', { 'x-forwarded-for': '1044594277' })).statusCode).toBe(403);
    expect((await deliver(app, '192.0.2.1', { 'x-forwarded-for': '076.0103.076.0145' })).statusCode).toBe(403);
  });

  it('is anyone with *', async () => {
    const app = await appWith({ DLR_ALLOWED_IPS: '*' });
    expect((await deliver(app, '198.51.100.77')).statusCode).toBe(200);
  });
});

describe('who may read the query API', () => {
  it('is, without API_TOKEN, callers on this machine only', async () => {
    const app = await appWith({});
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      expect((await app.inject({ method: 'GET', url: '/messages', remoteAddress: address })).statusCode, address).toBe(200);
    }
    for (const url of ['/messages', '/messages/x', '/rejected']) {
      const response = await app.inject({ method: 'GET', url, remoteAddress: '192.0.2.10' });
      expect(response.statusCode, url).toBe(403);
    }
  });

  it('is, without API_TOKEN, not whoever a proxy on this machine relays, with or without TRUST_PROXY', async () => {
    const relayedHeaders: Array<Record<string, string>> = [
      { 'x-forwarded-for': '198.51.100.7' },
      { 'x-forwarded-for': '127.0.0.1, 198.51.100.7' },
      { 'x-real-ip': '198.51.100.7' },
      { forwarded: 'for=198.51.100.7;proto=https' },
      { forwarded: 'for="[2001:db8::17]:4711"' },
      { forwarded: 'for=unknown' },
      // 127.0.0.1 in inet_aton's old forms: not an address as a proxy writes one, so not this machine.
      { 'x-forwarded-for': '2130706433' },
      { 'x-real-ip': '127.1' },
    ];
    for (const env of [{}, { TRUST_PROXY: '10.0.0.5' }]) {
      const app = await appWith(env);
      for (const headers of relayedHeaders) {
        const response = await app.inject({ method: 'GET', url: '/messages', remoteAddress: '127.0.0.1', headers });
        expect(response.statusCode, JSON.stringify({ env, headers })).toBe(403);
        expect(response.json<{ message: string }>().message).toContain('came through a proxy from elsewhere; set API_TOKEN');
      }
      // A proxy relaying this machine's own request names only loopback.
      for (const headers of [{ 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for="[::1]:5000"' }, { 'x-real-ip': '127.0.0.1' }]) {
        const response = await app.inject({ method: 'GET', url: '/messages', remoteAddress: '127.0.0.1', headers });
        expect(response.statusCode, JSON.stringify(headers)).toBe(200);
      }
    }
    // Behind a trusted proxy on this machine, the relayed caller is the caller.
    const proxied = await appWith({ TRUST_PROXY: '127.0.0.1' });
    const relayed = await proxied.inject({ method: 'GET', url: '/messages', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.7' } });
    expect(relayed.json<{ message: string }>().message).toBe('without API_TOKEN the query API answers callers on this machine only');
  });

  it('is, with API_TOKEN, whoever brings the token, from anywhere', async () => {
    const app = await appWith({ API_TOKEN: 's3cret-token' });
    const asked = (authorization: string | undefined, remoteAddress = '192.0.2.10') =>
      app.inject({ method: 'GET', url: '/messages', remoteAddress, headers: authorization === undefined ? {} : { authorization } });
    expect((await asked('Bearer s3cret-token')).statusCode).toBe(200);
    expect((await asked('bearer s3cret-token')).statusCode).toBe(200);
    for (const wrong of [undefined, 'Bearer wrong', 'Bearer s3cret-toke', 'Bearer s3cret-token-and-more', 'Basic czNjcmV0LXRva2Vu', 's3cret-token']) {
      const response = await asked(wrong);
      expect(response.statusCode, String(wrong)).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
    // The token is needed on this machine too.
    expect((await asked(undefined, '127.0.0.1')).statusCode).toBe(401);
  });

  it('leaves the health routes open', async () => {
    const app = await appWith({ API_TOKEN: 's3cret-token' });
    expect((await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.10' })).statusCode).toBe(200);
    const ready = await app.inject({ method: 'GET', url: '/readyz', remoteAddress: '192.0.2.10' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: 'up', smpp: 'disabled', storingTo: 'database', journalReports: 0 });
  });
});
