/**
 * The bind to the SMPP gateway over real connections: credentials right and wrong, receiver and
 * transceiver, TLS, keepalives both ways, the gateway's own unbind, and a clean unbind at shutdown.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/config/config.js';
import { COMMAND_STATUS } from '../../src/smpp/smpp-library.js';
import type { SmppPdu } from '../../src/smpp/smpp-library.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { sleep, waitFor } from '../helpers/receiver-process.js';
import type { FakeGateway, GatewayOptions } from '../helpers/smpp-gateway.js';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { receiptPdu, receiptText, startFakeGateway } from '../helpers/smpp-gateway.js';
import type { SmppTestReceiver } from '../helpers/smpp-receiver.js';
import { FAST_RECONNECT_MS, startSmppReceiver } from '../helpers/smpp-receiver.js';

const CREDENTIALS = { systemId: 'dlr-user', password: 'pa55-word' };
let testDb: TestDatabase;
let running: Array<{ gateway: FakeGateway; receiver?: SmppTestReceiver }> = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterEach(async () => {
  for (const { gateway, receiver } of running) {
    await receiver?.app.close();
    await gateway.close();
  }
  running = [];
});
afterAll(async () => {
  await testDb.drop();
});

async function gatewayAndReceiver(
  env: (gateway: FakeGateway) => Environment,
  gatewayOptions: GatewayOptions = CREDENTIALS,
): Promise<{ gateway: FakeGateway; receiver: SmppTestReceiver }> {
  const gateway = await startFakeGateway(gatewayOptions);
  const entry: { gateway: FakeGateway; receiver?: SmppTestReceiver } = { gateway };
  running.push(entry);
  const receiver = await startSmppReceiver(testDb.database, env(gateway));
  entry.receiver = receiver;
  return { gateway, receiver };
}

describe('credentials', () => {
  it('with a wrong password: stays connecting, says so once and clearly, and tries again only after the wait', async () => {
    const { gateway, receiver } = await gatewayAndReceiver((gw) => ({ SMPP_URL: gw.url(CREDENTIALS.systemId, 'not-the-password') }));
    await sleep(FAST_RECONNECT_MS * 5);
    expect(await receiver.smppState()).toBe('connecting');
    const attempts = gateway.binds;
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    // Never a tight loop: each attempt waits for the reconnect delay after the last.
    expect(attempts.length).toBeLessThanOrEqual(7);
    for (let index = 1; index < attempts.length; index++) {
      expect((attempts[index]?.at ?? 0) - (attempts[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(FAST_RECONNECT_MS - 20);
    }
    expect(attempts.every((attempt) => !attempt.accepted)).toBe(true);
    const refusals = receiver.logs().split('\n').filter((line) => line.includes('the SMPP gateway refused the bind'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain('wrong password for the system_id (ESME_RINVPASWD)');
    expect(refusals[0]).toContain('"systemId":"dlr-user"');
    expect(receiver.logs()).not.toContain('not-the-password');
    expect(refusals[0]).toContain('the password is longer than 8 characters, the most SMPP 3.4 allows, which a gateway may refuse');
  });

  it('with a wrong password within SMPP 3.4 lengths: does not blame the lengths', async () => {
    const { receiver } = await gatewayAndReceiver((gw) => ({ SMPP_URL: gw.url(CREDENTIALS.systemId, 'wrong-pw') }));
    await waitFor('the refused bind', () => Promise.resolve(receiver.logs().includes('the SMPP gateway refused the bind')));
    const refusal = receiver.logs().split('\n').find((line) => line.includes('the SMPP gateway refused the bind'));
    expect(refusal).toContain('"problem":"wrong password for the system_id (ESME_RINVPASWD)"');
  });

  it('binds as a transceiver when SMPP_BIND says so', async () => {
    const { gateway, receiver } = await gatewayAndReceiver((gw) => ({
      SMPP_URL: gw.url(CREDENTIALS.systemId, CREDENTIALS.password),
      SMPP_BIND: 'transceiver',
    }));
    await receiver.waitForState('bound');
    expect(gateway.binds.map((bind) => bind.command)).toEqual(['bind_transceiver']);
  });
});

describe('a gateway at an IPv6 address', () => {
  it('binds to the address in brackets in SMPP_URL, and keeps a refused deliver_sm under that address', async () => {
    const { gateway, receiver } = await gatewayAndReceiver((gw) => ({ SMPP_URL: gw.url(CREDENTIALS.systemId, CREDENTIALS.password) }), {
      ...CREDENTIALS,
      address: '::1',
    });
    await receiver.waitForState('bound');
    const answer = await gateway.deliver(receiptPdu(receiptText({ id: 'smpp-over-ipv6', stat: 'DELIVRD' })));
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    const found = await receiver.app.inject({ method: 'GET', url: '/messages/smpp-over-ipv6' });
    expect(found.json()).toMatchObject({ status: 'delivered' });
    await gateway.deliver({ source_addr: '2000', destination_addr: '2001', esm_class: 0, short_message: Buffer.from('HELLO') });
    const rejected = await receiver.app.inject({ method: 'GET', url: '/rejected?limit=1' });
    expect(rejected.json()).toMatchObject({ rejected: [{ method: 'deliver_sm', path: `smpp://[::1]:${String(gateway.port)}` }] });
  });
});

describe('TLS (smpps://)', () => {
  it('binds over TLS to a gateway whose certificate SMPP_TLS_CA trusts, and takes receipts', async () => {
    const certificate = selfSignedCertificate();
    const { gateway, receiver } = await gatewayAndReceiver(
      (gw) => ({ SMPP_URL: gw.url(CREDENTIALS.systemId, CREDENTIALS.password), SMPP_TLS_CA: certificate.certFile }),
      { ...CREDENTIALS, tls: certificate },
    );
    await receiver.waitForState('bound');
    const answer = await gateway.deliver(receiptPdu(receiptText({ id: 'smpp-over-tls', stat: 'DELIVRD' })));
    expect(answer.command_status).toBe(COMMAND_STATUS.ok);
    const response = await receiver.app.inject({ method: 'GET', url: '/messages/smpp-over-tls' });
    expect(response.json()).toMatchObject({ status: 'delivered' });
  });

  it('refuses a gateway whose certificate it cannot verify, and says why', async () => {
    const certificate = selfSignedCertificate();
    const { gateway, receiver } = await gatewayAndReceiver((gw) => ({ SMPP_URL: gw.url(CREDENTIALS.systemId, CREDENTIALS.password) }), {
      ...CREDENTIALS,
      tls: certificate,
    });
    await sleep(FAST_RECONNECT_MS * 2);
    expect(await receiver.smppState()).toBe('connecting');
    expect(gateway.binds).toHaveLength(0);
    expect(receiver.logs()).toContain('self-signed certificate');
  });
});

describe('keepalive', () => {
  it('sends enquire_link on its timer, one at a time, while bound', async () => {
    const { gateway, receiver } = await gatewayAndReceiver((gw) => ({
      SMPP_URL: gw.url(CREDENTIALS.systemId, CREDENTIALS.password),
      SMPP_ENQUIRE_LINK_MS: '100',
    }));
    await receiver.waitForState('bound');
    await waitFor('three enquire_links', async () => gateway.enquireLinks.length >= 3, 5_000);
    const gaps = gateway.enquireLinks.slice(1).map((at, index) => at - (gateway.enquireLinks[index] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(80);
  });

  it("answers the gateway's enquire_link", async () => {
    const { gateway, receiver } = await gatewayAndReceiver((gw) => ({ SMPP_URL: gw.url(CREDENTIALS.systemId, CREDENTIALS.password) }));
    await receiver.waitForState('bound');
    const session = await gateway.bound();
    const answer = await new Promise<SmppPdu>((resolve) => {
      session.enquire_link({}, resolve);
    });
    expect(answer).toMatchObject({ command: 'enquire_link_resp', command_status: COMMAND_STATUS.ok });
  });
});

describe('ending the bind', () => {
  it("answers the gateway's unbind and binds again after the wait", async () => {
    const { gateway, receiver } = await gatewayAndReceiver((gw) => ({ SMPP_URL: gw.url(CREDENTIALS.systemId, CREDENTIALS.password) }));
    await receiver.waitForState('bound');
    const session = await gateway.bound();
    const answer = await new Promise<SmppPdu>((resolve) => {
      session.unbind({}, resolve);
    });
    expect(answer.command).toBe('unbind_resp');
    await waitFor('a second bind', async () => gateway.binds.length === 2, 5_000);
    await receiver.waitForState('bound');
  });

  it('unbinds from the gateway when the receiver shuts down', async () => {
    const { gateway, receiver } = await gatewayAndReceiver((gw) => ({ SMPP_URL: gw.url(CREDENTIALS.systemId, CREDENTIALS.password) }));
    await receiver.waitForState('bound');
    await receiver.app.close();
    expect(gateway.unbinds).toHaveLength(1);
    await sleep(FAST_RECONNECT_MS * 2);
    expect(gateway.binds).toHaveLength(1);
  });
});
