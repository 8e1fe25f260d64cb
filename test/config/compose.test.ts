/**
 * `docker compose up` gives the receiver the settings of a `.env` beside docker-compose.yml: the
 * container sees only what the receiver service's `environment` passes on, over the image's `ENV`.
 */
import { describe, expect, it } from 'vitest';
import { type Config, type Environment, SETTING_NAMES, readConfig } from '../../src/config/config.js';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { containerEnvironment, imageDataFolder, imageEnvironment, imageInstructions, receiverService } from '../helpers/compose.js';

/** A configuration as data: the allow lists' lookups, functions made anew by each read, left out. */
function settingsOf(config: Config): unknown {
  return JSON.parse(JSON.stringify(config));
}

/** Where the image listens and keeps its journal, and the compose file's own server. */
const FIXED_BY_THE_DEPLOYMENT = ['HOST', 'PORT', 'DATA_DIR', 'DATABASE_URL'];

describe('docker-compose.yml', () => {
  it('passes every setting of a .env on to the receiver, but where it listens, keeps data and finds its database', () => {
    const { certFile } = selfSignedCertificate();
    const dotEnv: Environment = {
      DLR_ALLOWED_IPS: '62.67.62.101,10.0.0.0/8',
      TRUST_PROXY: '172.16.0.0/12',
      DLR_ACK_BODY: 'ACKED',
      DLR_BODY_LIMIT: '262144',
      API_TOKEN: 'a-token',
      JOURNAL_MAX_BYTES: '5000000',
      JOURNAL_RETRY_MS: '250',
      REQUEST_TIMEOUT_MS: '12000',
      WRITE_TIMEOUT_MS: '8000',
      RETENTION_DAYS: '90',
      LOG_LEVEL: 'warn',
      SMPP_URL: 'smpps://system:secret@smpp.example.com:3601',
      SMPP_BIND: 'transceiver',
      SMPP_RECONNECT_MS: '45000',
      SMPP_ENQUIRE_LINK_MS: '90000',
      SMPP_TLS_CA: certFile,
    };
    // The test sets every setting but the fixed ones, so a setting added later must be passed on too.
    expect(Object.keys(dotEnv).sort()).toEqual(SETTING_NAMES.filter((name) => !FIXED_BY_THE_DEPLOYMENT.includes(name)).sort());

    const inContainer = readConfig(containerEnvironment(dotEnv));
    const withNpmStart = readConfig({ ...dotEnv, HOST: '0.0.0.0', PORT: '3000', DATA_DIR: '/app/data', DATABASE_URL: 'postgres://dlr@postgres:5432/dlr' });
    expect(settingsOf(inContainer)).toEqual(settingsOf(withNpmStart));
  });

  it('leaves a setting the .env does not give to the receiver\'s default, as npm start does', () => {
    const inContainer = readConfig(containerEnvironment({}));
    const withNpmStart = readConfig({ DATA_DIR: '/app/data', DATABASE_URL: 'postgres://dlr@postgres:5432/dlr' });
    expect(settingsOf(inContainer)).toEqual(settingsOf(withNpmStart));
  });

  it('publishes the port the image listens on, on the host port PORT names', () => {
    const { PORT: imagePort } = imageEnvironment();
    expect(receiverService.ports).toEqual([`\${PORT:-3000}:${imagePort}`]);
    expect(containerEnvironment({ PORT: '8080' })['PORT']).toBe(imagePort);
  });
});

describe('the image', () => {
  it('runs as a user given by number, not root, who owns its DATA_DIR: Kubernetes\' runAsNonRoot refuses a pod whose image names its user', () => {
    const users = imageInstructions('USER');
    expect(users).toHaveLength(1);
    const [, uid, gid] = /^(\d+):(\d+)$/.exec(users[0] ?? '') ?? [];
    expect(uid).toBeDefined();
    expect(uid).not.toBe('0');
    const folder = imageDataFolder();
    expect(folder.uid).toBe(Number(uid));
    expect(folder.mode & 0o700).toBe(0o700);
    expect(gid).toBeDefined();
  });

  it('lets group 0 write its DATA_DIR: OpenShift runs an image as a user of its own choosing, in group 0', () => {
    const folder = imageDataFolder();
    expect(folder.gid).toBe(0);
    expect(folder.mode & 0o070).toBe(0o070);
  });
});
