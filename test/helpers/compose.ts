/**
 * What the receiver's container reads under `docker compose up`: the image's `ENV`, overridden by
 * the receiver service's `environment` as Docker Compose fills it in from a `.env`.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Environment } from '../../src/config/config.js';

interface Compose {
  readonly services: { readonly receiver: { readonly environment: Record<string, string>; readonly ports: readonly string[] } };
}

export const receiverService = (parse(readFileSync('docker-compose.yml', 'utf8')) as Compose).services.receiver;

/** The Dockerfile's run stage, its lines continued with `\` joined. */
function runStage(): string {
  const dockerfile = readFileSync('Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  return dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
}

/** The run stage's instructions of one kind (`USER`, `RUN`), each without its keyword. */
export function imageInstructions(keyword: string): string[] {
  return runStage().split('\n').filter((line) => line.startsWith(`${keyword} `)).map((line) => line.slice(keyword.length + 1).trim());
}

/** The image's data folder as its run stage makes it: `chown uid:gid` and `chmod mode` of `DATA_DIR`. */
export function imageDataFolder(): { readonly uid: number; readonly gid: number; readonly mode: number } {
  const dataDir = imageEnvironment()['DATA_DIR'] ?? '';
  const commands = imageInstructions('RUN').join(' && ');
  const [, uid, gid] = new RegExp(`chown (\\d+):(\\d+) ${dataDir}(?: |$)`).exec(commands) ?? [];
  const [, mode] = new RegExp(`chmod ([0-7]{3,4}) ${dataDir}(?: |$)`).exec(commands) ?? [];
  if (uid === undefined || gid === undefined || mode === undefined) throw new Error(`the Dockerfile's run stage does not chown and chmod ${dataDir}`);
  return { uid: Number(uid), gid: Number(gid), mode: parseInt(mode, 8) };
}

/** The run stage's `ENV` lines (`NAME=value`, continued with `\`). */
export function imageEnvironment(): Record<string, string> {
  const pairs = imageInstructions('ENV').flatMap((line) => [...line.matchAll(/(\w+)=(\S+)/g)].map(([, name = '', value = '']) => [name, value] as const));
  return Object.fromEntries(pairs);
}

/** Docker Compose's interpolation of the one form the file uses, `${NAME:-default}`. */
function interpolated(value: string, dotEnv: Environment): string {
  return value.replace(/\$\{(\w+):-([^}]*)\}/g, (_whole, name: string, fallback: string) => {
    const given = dotEnv[name];
    return given === undefined || given === '' ? fallback : given;
  });
}

/** The container's environment for a `.env` (or shell) holding `dotEnv`. */
export function containerEnvironment(dotEnv: Environment): Record<string, string> {
  const passed = Object.entries(receiverService.environment).map(([name, value]) => [name, interpolated(value, dotEnv)] as const);
  return { ...imageEnvironment(), ...Object.fromEntries(passed) };
}
