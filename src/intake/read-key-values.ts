/**
 * Reads key/value pairs (a form body or a GET query string). Names match case-insensitively; a
 * custom parameter comes as `customParameters.KEY` or `customParameters[KEY]` (likewise
 * `gateCustomParameters`), its KEY kept as written.
 */
import type { ReportField } from '../meaning/delivery-report.js';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import { clip, withPlusOffset } from './field-values.js';
import type { ReadReport } from './read-report.js';
import { reportFieldNamed, reportFromText } from './text-report.js';

const TIME_FIELDS: ReadonlySet<ReportField> = new Set(['sentTimestamp', 'timestamp']);
const PARAMETER_NAME = /^(customParameters|gateCustomParameters)(?:\.(.+)|\[(.+)\])$/is;

/**
 * A field as it was sent, where a `+` not written `%2B` arrived as a space: in a time's offset, and
 * anywhere in `id`, which is LINK's base64 message id (`Dcshuhod0PMAAAFQ+/PbnR3x`) and has no space.
 */
function asSent(field: ReportField, value: string): string {
  if (TIME_FIELDS.has(field)) return withPlusOffset(value);
  return field === 'id' ? value.replaceAll(' ', '+') : value;
}

export function readKeyValueReport(pairs: Iterable<[string, string]>): Result<ReadReport[]> {
  const values = new Map<ReportField, string>();
  const custom: Array<[string, string]> = [];
  const gateCustom: Array<[string, string]> = [];
  const payload: Array<[string, string]> = [];
  const seen = new Set<string>();

  for (const [name, value] of pairs) {
    payload.push([name, value]);
    const parameter = PARAMETER_NAME.exec(name);
    if (parameter !== null) {
      const [, group = '', dotKey, bracketKey] = parameter;
      const key = dotKey ?? bracketKey ?? '';
      const isGate = group.toLowerCase() === 'gatecustomparameters';
      const seenName = `${isGate ? 'gateCustomParameters' : 'customParameters'}.${key}`;
      if (seen.has(seenName)) return problem(`${clip(seenName)} is given more than once`);
      seen.add(seenName);
      (isGate ? gateCustom : custom).push([key, value]);
      continue;
    }
    const field = reportFieldNamed(name);
    if (field === undefined) continue;
    if (seen.has(field)) return problem(`${field} is given more than once`);
    seen.add(field);
    values.set(field, asSent(field, value));
  }

  const report = reportFromText({
    values,
    // fromEntries defines own properties, so a key such as `__proto__` stays a plain key.
    customParameters: Object.fromEntries(custom),
    gateCustomParameters: Object.fromEntries(gateCustom),
  });
  return report.ok ? ok([{ report: report.value, payload: Object.fromEntries(payload) }]) : report;
}
