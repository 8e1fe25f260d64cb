/**
 * `docker compose up` gives the receiver the settings of a `.env` beside docker-compose.yml: the
 * container sees only what the receiver service's `environment` passes on, over the image's `ENV`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Config, type Environment, SETTING_NAMES, readConfig } from '../../src/config/config.js';
import { selfSignedCertificate } from '../helpers/certificate.js';

interface Compose {
  readonly services: { readonly receiver: { readonly environment: Record<string, string>; readonly ports: readonly string[] } };
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as Compose;
const receiver = compose.services.receiver;

/** The image's `ENV` lines (`NAME=value`, continued with `\`). */
function imageEnvironment(): Record<string, string> {
  const dockerfile = readFileSync('Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  const runStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const lines = runStage.split('\n').filter((line) => line.startsWith('ENV '));
  const pairs = lines.flatMap((line) => [...line.matchAll(/(\w+)=(\S+)/g)].map(([, name = '', value = '']) => [name, value] as const));
  return Object.fromEntries(pairs);
}

/** Docker Compose's interpolation of the one form the file uses, `${NAME:-default}`. */
function interpolated(value: string, dotEnv: Environment): string {
  return value.replace(/\$\{(\w+):-([^}]*)\}/g, (_whole, name: string, fallback: string) => {
    const given = dotEnv[name];
    return given === undefined || given === '' ? fallback : given;
  });
}

/** What the receiver in the container reads: the image's ENV, overridden by the service's environment. */
function containerEnvironment(dotEnv: Environment): Environment {
  const passed = Object.entries(receiver.environment).map(([name, value]) => [name, interpolated(value, dotEnv)] as const);
  return { ...imageEnvironment(), ...Object.fromEntries(passed) };
}

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
    const withNpmStart = readConfig({ ...dotEnv, HOST: '0.0.0.0', PORT: '3000', DATA_DIR: '/app/data', DATABASE_URL: 'postgres://dlr:dlr@postgres:5432/dlr' });
    expect(settingsOf(inContainer)).toEqual(settingsOf(withNpmStart));
  });

  it('leaves a setting the .env does not give to the receiver\'s default, as npm start does', () => {
    const inContainer = readConfig(containerEnvironment({}));
    const withNpmStart = readConfig({ DATA_DIR: '/app/data', DATABASE_URL: 'postgres://dlr:dlr@postgres:5432/dlr' });
    expect(settingsOf(inContainer)).toEqual(settingsOf(withNpmStart));
  });

  it('publishes the port the image listens on, on the host port PORT names', () => {
    const { PORT: imagePort } = imageEnvironment();
    expect(receiver.ports).toEqual([`\${PORT:-3000}:${imagePort}`]);
    expect(containerEnvironment({ PORT: '8080' })['PORT']).toBe(imagePort);
  });
});
