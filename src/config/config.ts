/**
 * The one place that reads the environment. Each setting says why it exists; a bad value stops the
 * start with a message that names the variable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { AddressList } from './address-list.js';
import { isAddressOrRange, parseAddressList, writingHint } from './address-list.js';
import { databaseUrlProblem, parametersNotActedOn, parametersNotActedOnLine } from './database-url.js';
import { parseEnvFile } from './env-file.js';

export type TrustProxy = false | number | string[];
export type SmppBind = 'receiver' | 'transceiver';

export interface SmppConfig {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly bind: SmppBind;
  /** The gateway asks for 30 seconds' wait before reconnecting after a drop or a refused bind. */
  readonly reconnectMs: number;
  /** How often to send enquire_link: the gateway closes a link idle for 5 minutes. */
  readonly enquireLinkMs: number;
  /** Certificates (PEM) to trust for `smpps://` besides the system's; null: the system's only. */
  readonly tlsCa: string | null;
}

export interface Config {
  /** Where the HTTP server listens. */
  readonly host: string;
  readonly port: number;
  /** A PostgreSQL server; null means the embedded database under `dataDir`. */
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  /** Who may deliver reports; null turns the check off (`*`). */
  readonly allowedCallers: AddressList | null;
  /** Whose `X-Forwarded-For` to believe: proxy addresses, a hop count, or nobody. */
  readonly trustProxy: TrustProxy;
  /** The body of a 200 to a report: LINK's gate can require a fixed string. */
  readonly ackBody: string;
  /** The query API's bearer token; null limits the query API to loopback callers. */
  readonly apiToken: string | null;
  readonly logLevel: string;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit: number;
  /** An SMPP gateway to take receipts from; null: none. */
  readonly smpp: SmppConfig | null;
  /** The local journal's size limit: past it, reports the database cannot take get a 503. */
  readonly journalMaxBytes: number;
  /** How long to wait between attempts to store the journal while the database is away. */
  readonly journalRetryMs: number;
  /** The longest a client may take to send a whole request; a slower one gets 408 and is cut off. */
  readonly requestTimeoutMs: number;
  /** The longest a write to a PostgreSQL server may take before its reports go to the journal instead. */
  readonly writeTimeoutMs: number;
  /** Days a message is kept after its newest report; null keeps every message. */
  readonly retentionDays: number | null;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and checks every setting; throws one ConfigError listing each bad variable. */
export function readConfig(env: Environment): Config {
  const problems: string[] = [];
  const value = (name: SettingName): string | undefined => {
    const text = env[name]?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  const exactly = (name: SettingName): string | undefined => (env[name] === '' ? undefined : env[name]);
  const fail: Fail = (name, text) => {
    problems.push(`${name}: ${text}`);
  };

  const port = parsePort('PORT', value('PORT') ?? '3000', fail);
  const databaseUrl = value('DATABASE_URL') ?? null;
  const urlProblem = databaseUrl === null ? null : databaseUrlProblem(databaseUrl);
  if (urlProblem !== null) fail('DATABASE_URL', urlProblem);

  const allowedText = value('DLR_ALLOWED_IPS') ?? 'linkmobility';
  let allowedCallers: AddressList | null = null;
  if (allowedText !== '*') {
    const list = parseAddressList(allowedText);
    if (list.ok) allowedCallers = list.value;
    else fail('DLR_ALLOWED_IPS', `${list.problem} (use addresses, CIDR ranges, "linkmobility" or "*")`);
  }

  // Words, not names: `LOG_LEVEL=INFO` and `SMPP_BIND=Transceiver` mean what they say.
  const logLevel = value('LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) fail('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);

  const bodyLimitText = value('DLR_BODY_LIMIT') ?? '65536';
  const bodyLimit = Number(bodyLimitText);
  if (!/^\d+$/.test(bodyLimitText) || bodyLimit < 1024 || bodyLimit > 16 * 1024 * 1024) {
    fail('DLR_BODY_LIMIT', 'must be a number of bytes from 1024 to 16777216');
  }

  const journalMaxBytes = parseWhole('JOURNAL_MAX_BYTES', value('JOURNAL_MAX_BYTES') ?? String(1024 ** 3), { min: 65_536, max: 2 ** 50 }, fail);
  const requestTimeoutMs = parseWhole('REQUEST_TIMEOUT_MS', value('REQUEST_TIMEOUT_MS') ?? '30000', { min: 100, max: 600_000 }, fail);
  const journalRetryMs = parseWhole('JOURNAL_RETRY_MS', value('JOURNAL_RETRY_MS') ?? '1000', { min: 10, max: 600_000 }, fail);
  const writeTimeoutMs = parseWhole('WRITE_TIMEOUT_MS', value('WRITE_TIMEOUT_MS') ?? '5000', { min: 100, max: 600_000 }, fail);
  const retentionText = value('RETENTION_DAYS');
  const retentionDays = retentionText === undefined ? null : parseWhole('RETENTION_DAYS', retentionText, { min: 1, max: 36_500 }, fail);

  const config: Config = {
    host: parseHost(value('HOST') ?? '0.0.0.0', fail),
    port,
    databaseUrl,
    dataDir: parseDataDir(value('DATA_DIR') ?? './data', fail),
    allowedCallers,
    trustProxy: parseTrustProxy(value('TRUST_PROXY'), fail),
    // Exactly as written, spaces included; only an empty value falls back, as for every variable.
    ackBody: exactly('DLR_ACK_BODY') ?? 'OK',
    apiToken: value('API_TOKEN') ?? null,
    logLevel,
    bodyLimit,
    smpp: parseSmpp(value('SMPP_URL'), {
      bind: value('SMPP_BIND')?.toLowerCase() ?? 'receiver',
      reconnectMs: parseWhole('SMPP_RECONNECT_MS', value('SMPP_RECONNECT_MS') ?? '30000', { min: 10, max: 3_600_000 }, fail),
      enquireLinkMs: parseWhole('SMPP_ENQUIRE_LINK_MS', value('SMPP_ENQUIRE_LINK_MS') ?? '60000', { min: 10, max: 240_000 }, fail),
      tlsCaFile: value('SMPP_TLS_CA'),
    }, fail),
    journalMaxBytes,
    journalRetryMs,
    requestTimeoutMs,
    writeTimeoutMs,
    retentionDays,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Records a problem with a variable; the caller goes on with a placeholder, and the start fails. */
type Fail = (name: string, text: string) => void;

function parsePort(name: string, text: string, fail: Fail): number {
  const port = Number(text);
  if (/^\d+$/.test(text) && port >= 1 && port <= 65535) return port;
  fail(name, `"${text}" is not a port (1-65535)`);
  return 0;
}

/** An IP address, or a host name made of letters, digits and hyphens between dots (RFC 1123). */
const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function parseHost(text: string, fail: Fail): string {
  if (isIP(text) !== 0) return text;
  // `127.1`, `0` and `010.0.0.1` look like host names, and the system's resolver reads them as
  // `inet_aton` does: 127.0.0.1, 0.0.0.0 and 8.0.0.1.
  const hint = writingHint(text);
  if (hint === '' && HOST_NAME.test(text)) return text;
  fail('HOST', `"${text}" is not an IP address or host name (0.0.0.0 listens on every IPv4 address, :: on every address)${hint}`);
  return text;
}

function parseWhole(name: string, text: string, range: { min: number; max: number }, fail: Fail): number {
  const number = Number(text);
  if (/^\d+$/.test(text) && number >= range.min && number <= range.max) return number;
  fail(name, `"${text}" must be a whole number from ${range.min} to ${range.max}`);
  return range.min;
}

/**
 * A folder on disk. PGlite would also take `memory://` (a database that is gone when the receiver
 * stops, with every report it acknowledged) and other URLs, which the journal beside it would make
 * into a folder named after the scheme in the working directory.
 */
function parseDataDir(text: string, fail: Fail): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):\/\//.exec(text)?.[1];
  if (scheme === undefined) return text;
  fail(
    'DATA_DIR',
    scheme.toLowerCase() === 'memory'
      ? `"${text}" would keep the database in memory and lose every acknowledged report when the receiver stops; name a folder`
      : `"${text}" is a URL; name a folder (a path such as ./data)`,
  );
  return text;
}

function parseTrustProxy(text: string | undefined, fail: Fail): TrustProxy {
  if (text === undefined) return false;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops >= 1 && hops <= 16) return hops;
    fail('TRUST_PROXY', 'a hop count must be from 1 to 16');
    return false;
  }
  if (/^(true|yes|on|\*)$/i.test(text)) {
    fail('TRUST_PROXY', `"${text}" would believe anyone's X-Forwarded-For, and any client could name a LINK host there; name your proxies (loopback for one on this machine) or give a hop count`);
    return false;
  }
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const named = entries.map((entry) => (PROXY_RANGE_NAMES.has(entry.toLowerCase()) ? entry.toLowerCase() : entry));
  const bad = named.find((entry) => !PROXY_RANGE_NAMES.has(entry) && !isAddressOrRange(entry));
  if (bad === undefined) return named;
  fail('TRUST_PROXY', `"${bad}" is not an address, CIDR range, loopback, linklocal, uniquelocal or hop count${writingHint(bad)}`);
  return false;
}

/** Names for address ranges that Fastify's proxy check (proxy-addr) reads in a list of proxies. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

interface SmppSettings {
  readonly bind: string;
  readonly reconnectMs: number;
  readonly enquireLinkMs: number;
  readonly tlsCaFile: string | undefined;
}

function parseSmpp(text: string | undefined, settings: SmppSettings, fail: Fail): SmppConfig | null {
  const bindText = settings.bind;
  if (bindText !== 'receiver' && bindText !== 'transceiver') fail('SMPP_BIND', 'must be receiver or transceiver');
  if (text === undefined) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail('SMPP_URL', 'is not a URL (smpp://system_id:password@host:port)');
    return null;
  }
  if (url.protocol !== 'smpp:' && url.protocol !== 'smpps:') {
    fail('SMPP_URL', 'must start with smpp:// or smpps://');
    return null;
  }
  if (url.hostname === '' || url.username === '') {
    fail('SMPP_URL', 'needs a system_id and a host: smpp://system_id:password@host:port');
    return null;
  }
  // Nothing after host:port is read; the value is not echoed, as it holds the password.
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    fail('SMPP_URL', 'has a path or query after host:port, which the receiver does not read: the bind type is SMPP_BIND, the timings SMPP_RECONNECT_MS and SMPP_ENQUIRE_LINK_MS');
    return null;
  }
  const port = url.port === '' ? 2775 : parsePort('SMPP_URL', url.port, fail);
  const systemId = percentDecoded(url.username);
  const password = percentDecoded(url.password);
  if (systemId === null || password === null) {
    fail('SMPP_URL', `the ${systemId === null ? 'system_id' : 'password'} has a % not followed by two hex digits of UTF-8; write a % itself as %25`);
    return null;
  }
  const unsendable = !isBindText(systemId) ? 'system_id' : !isBindText(password) ? 'password' : null;
  if (unsendable !== null) {
    fail('SMPP_URL', `the ${unsendable} holds a character a bind cannot carry: SMPP 3.4 sends it as ASCII, without NUL`);
    return null;
  }
  return {
    tls: url.protocol === 'smpps:',
    // A URL writes an IPv6 address in brackets; a socket takes it without.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    systemId,
    password,
    bind: bindText === 'transceiver' ? 'transceiver' : 'receiver',
    reconnectMs: settings.reconnectMs,
    enquireLinkMs: settings.enquireLinkMs,
    tlsCa: settings.tlsCaFile === undefined ? null : readCaFile(settings.tlsCaFile, fail),
  };
}

/**
 * What a bind's C-Octet String carries: ASCII without NUL. The SMPP library writes any other
 * character as one byte of something else, and a NUL ends the string early.
 */
function isBindText(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0 || code > 0x7f) return false;
  }
  return true;
}

/** A URL's percent-encoded part as text; null when an escape is not one (`%ZZ`, half a UTF-8 character). */
function percentDecoded(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function readCaFile(path: string, fail: Fail): string | null {
  try {
    const pem = readFileSync(path, 'utf8');
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return pem;
    fail('SMPP_TLS_CA', `${path} holds no PEM certificate`);
  } catch (error) {
    fail('SMPP_TLS_CA', `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return null;
}

/** The variables the receiver reads; `.env.example` lists each one, and a test holds the two together. */
export const SETTING_NAMES = [
  'PORT', 'HOST', 'DATABASE_URL', 'DATA_DIR', 'DLR_ALLOWED_IPS', 'TRUST_PROXY', 'DLR_ACK_BODY', 'DLR_BODY_LIMIT',
  'API_TOKEN', 'JOURNAL_MAX_BYTES', 'JOURNAL_RETRY_MS', 'REQUEST_TIMEOUT_MS', 'WRITE_TIMEOUT_MS', 'RETENTION_DAYS', 'LOG_LEVEL',
  'SMPP_URL', 'SMPP_BIND', 'SMPP_RECONNECT_MS', 'SMPP_ENQUIRE_LINK_MS', 'SMPP_TLS_CA',
] as const;

/** readConfig reads a setting only by one of these names, so the list holds every name it reads. */
type SettingName = (typeof SETTING_NAMES)[number];
const SETTINGS: ReadonlySet<string> = new Set(SETTING_NAMES);

/** What `.env` may hold for Docker Compose alone: docker-compose.yml's own variable, Compose's settings. */
const FOR_COMPOSE = /^(POSTGRES_PASSWORD|COMPOSE_\w+)$/;

/** The receiver's own prefixes: a name of the environment that begins so is meant for it. */
const RECEIVER_PREFIX = /^(DLR|SMPP)_/;

export interface NamesNotRead {
  /** Any name in `.env` but Docker Compose's. */
  readonly inEnvFile: readonly string[];
  /** A name of the environment with the receiver's prefix; the environment holds many others. */
  readonly inEnvironment: readonly string[];
}

/**
 * Names set that nothing reads, most likely misspelt: a `DATABSE_URL` in `.env` left the receiver
 * on the embedded database without a word, and a `DLR_ACK=…` answered LINK with the default `OK`.
 */
export function namesNotRead(fileSettings: Environment, env: Environment): NamesNotRead {
  const unknown = (name: string) => !SETTINGS.has(name);
  const serviceLink = serviceLinkNames(Object.keys(env));
  return {
    inEnvFile: Object.keys(fileSettings).filter((name) => unknown(name) && !FOR_COMPOSE.test(name)),
    inEnvironment: Object.keys(env).filter((name) => unknown(name) && RECEIVER_PREFIX.test(name) && !serviceLink(name)),
  };
}

const SERVICE_HOST = '_SERVICE_HOST';

/**
 * Kubernetes gives every pod the address of each Service of its namespace: for a Service named
 * `dlr-receiver`, `DLR_RECEIVER_SERVICE_HOST`, `DLR_RECEIVER_SERVICE_PORT…` and `DLR_RECEIVER_PORT…`.
 * They carry the receiver's prefix but are no one's misspelling, and the start named them all. A
 * Service's names are known by its `…_SERVICE_HOST`, which Kubernetes always sets with them.
 */
function serviceLinkNames(names: readonly string[]): (name: string) => boolean {
  const services = names.filter((name) => name.endsWith(SERVICE_HOST)).map((name) => name.slice(0, -SERVICE_HOST.length));
  return (name) =>
    services.some((service) => name === `${service}${SERVICE_HOST}` || name.startsWith(`${service}_SERVICE_PORT`) || name === `${service}_PORT` || name.startsWith(`${service}_PORT_`));
}

/** The settings a `.env` file holds; none when there is no such file. */
export function readEnvFile(env: Environment, path = '.env'): Environment {
  if (!existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // A settings file the receiver may not read (owned by another user, a folder) is a bad setting.
    throw new ConfigError([`${path}: cannot read it: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const settings = parseEnvFile(text, (name) => env[name] !== undefined);
  if (!settings.ok) throw new ConfigError([`${path}: ${settings.problem}`]);
  return settings.value;
}

/**
 * The environment with a `.env` file's settings under it: a variable set in the real environment
 * wins over the file.
 */
export function environmentWithEnvFile(env: Environment, path = '.env'): Environment {
  return underEnvironment(readEnvFile(env, path), env);
}

function underEnvironment(fileSettings: Environment, env: Environment): Environment {
  return { ...fileSettings, ...env };
}

/** libpq's variables that name a server or a database, which the PostgreSQL driver reads too. */
const LIBPQ_SERVER_NAMES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGSERVICE'];

/**
 * The libpq variables of the environment that name a server the receiver will not use, as
 * DATABASE_URL is unset: set as for psql, they left the receiver on its embedded database without a
 * word, which a container without a volume loses.
 */
export function serverNamedWithoutUrl(config: Config, env: Environment): readonly string[] {
  if (config.databaseUrl !== null) return [];
  return LIBPQ_SERVER_NAMES.filter((name) => (env[name] ?? '') !== '');
}

/** Says where the reports go instead; null when nothing names a server. */
export function serverNamedWithoutUrlLine(names: readonly string[], dataDir: string): string | null {
  if (names.length === 0) return null;
  return `the environment sets ${names.join(', ')} but not DATABASE_URL: the receiver keeps reports in its embedded database under DATA_DIR (${dataDir}), not on that server; to use the server, set DATABASE_URL (postgres://user@host:port/database)`;
}

/** A warning the start gives about the settings, with the names it is about. */
export interface StartWarning {
  readonly names: readonly string[];
  readonly line: string;
}

export interface StartSettings {
  readonly config: Config;
  /**
   * Names set that nothing reads, libpq's names of a server without DATABASE_URL, and the URL's
   * parameters the driver does not act on.
   */
  readonly warnings: readonly StartWarning[];
}

/**
 * The process's settings, from its environment and `.env`; a bad value stops the process with the
 * message naming each bad variable (exit code 1), not a stack trace.
 */
export function readConfigOrExit(): StartSettings {
  try {
    const fileSettings = readEnvFile(process.env);
    const config = readConfig(underEnvironment(fileSettings, process.env));
    const notRead = namesNotRead(fileSettings, process.env);
    const serverNames = serverNamedWithoutUrl(config, process.env);
    const urlParameters = config.databaseUrl === null ? [] : parametersNotActedOn(config.databaseUrl);
    const warnings: StartWarning[] = [
      { names: [...notRead.inEnvFile, ...notRead.inEnvironment], line: notReadLine(notRead) },
      { names: serverNames, line: serverNamedWithoutUrlLine(serverNames, config.dataDir) },
      { names: urlParameters, line: parametersNotActedOnLine(urlParameters) },
    ].flatMap(({ names, line }) => (line === null ? [] : [{ names, line }]));
    return { config, warnings };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** Says which names nothing reads, and where the names the receiver reads are listed; null when none. */
export function notReadLine({ inEnvFile, inEnvironment }: NamesNotRead): string | null {
  const where = [
    ...(inEnvFile.length > 0 ? [`.env sets ${inEnvFile.join(', ')}`] : []),
    ...(inEnvironment.length > 0 ? [`the environment sets ${inEnvironment.join(', ')}`] : []),
  ];
  return where.length === 0 ? null : `${where.join(' and ')}, which the receiver does not read: check the spelling against .env.example`;
}
