/** The local journal on a real file system: what is written comes back, across reopenings and torn writes. */
import { spawn } from 'node:child_process';
import { hash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/storage/journal.js';
import { FolderInUseError } from '../../src/storage/folder-claim.js';
import { foldersToSync } from '../../src/lib/sync-folder.js';
import { JournalFullError, openJournal } from '../../src/storage/journal.js';
import { reportToStore } from '../helpers/reports.js';

const MiB = 1024 ** 2;

function freshFolder(): string {
  return join(mkdtempSync(join(tmpdir(), 'dlr-journal-')), 'journal');
}

async function readAll(journal: Journal): Promise<string[]> {
  const chunk = await journal.readNext(MiB);
  return chunk.entries.flatMap((entry) => entry.items?.map((item) => item.report.reportId) ?? []);
}

describe('the local journal', () => {
  it('gives back what was appended, dates and all, after the process reopens it', async () => {
    const folder = freshFolder();
    const first = await openJournal({ folder, maxBytes: MiB });
    const timestamp = new Date('2026-11-23T09:00:00.123Z');
    await Promise.all([first.append([reportToStore('a$1', timestamp), reportToStore('a$2')]), first.append([reportToStore('b')])]);
    expect(first.unreplayedReports()).toBe(3);
    await first.close();

    const second = await openJournal({ folder, maxBytes: MiB });
    expect(second.holdsUnreplayed()).toBe(true);
    expect(second.unreplayedReports()).toBe(3);
    const chunk = await second.readNext(MiB);
    expect(chunk.entries).toHaveLength(2);
    const [firstItem] = chunk.entries[0]?.items ?? [];
    expect(firstItem?.report.timestamp).toEqual(timestamp);
    expect(firstItem?.receivedAt).toBeInstanceOf(Date);
    expect(await readAll(second)).toEqual(['a$1', 'a$2', 'b']);
    await second.close();
  });

  it('drops a line cut short by a crash, which was never acknowledged, and keeps the lines before it', async () => {
    const folder = freshFolder();
    const journal = await openJournal({ folder, maxBytes: MiB });
    await journal.append([reportToStore('whole')]);
    await journal.close();
    appendFileSync(join(folder, 'reports.jsonl'), '{"v":1,"items":[{"report":');

    const reopened = await openJournal({ folder, maxBytes: MiB });
    expect(reopened.unreplayedReports()).toBe(1);
    await reopened.append([reportToStore('after')]);
    expect(await readAll(reopened)).toEqual(['whole', 'after']);
    await reopened.close();
  });

  it('remembers how far it was replayed, and empties itself once all of it is', async () => {
    const folder = freshFolder();
    const journal = await openJournal({ folder, maxBytes: MiB });
    await journal.append([reportToStore('one')]);
    await journal.append([reportToStore('two')]);
    const chunk = await journal.readNext(1);
    expect(chunk.entries).toHaveLength(1);
    await journal.markReplayed(chunk.end, 1);
    expect(await journal.clearIfReplayed()).toBe(false);
    await journal.close();

    const reopened = await openJournal({ folder, maxBytes: MiB });
    expect(reopened.unreplayedReports()).toBe(1);
    const rest = await reopened.readNext(MiB);
    expect(rest.entries.map((entry) => entry.items?.[0]?.report.reportId)).toEqual(['two']);
    await reopened.markReplayed(rest.end, 1);
    expect(await reopened.clearIfReplayed()).toBe(true);
    expect(reopened.holdsUnreplayed()).toBe(false);
    expect(statSync(join(folder, 'reports.jsonl')).size).toBe(0);
    await reopened.close();
  });

  it('refuses an append past its size limit, and takes appends again once emptied', async () => {
    const folder = freshFolder();
    const journal = await openJournal({ folder, maxBytes: 2048 });
    await journal.append([reportToStore('first')]);
    const many = Array.from({ length: 10 }, (_, index) => reportToStore(`big-${index}`));
    await expect(journal.append(many)).rejects.toBeInstanceOf(JournalFullError);
    expect(journal.unreplayedReports()).toBe(1);
    const chunk = await journal.readNext(MiB);
    await journal.markReplayed(chunk.end, 1);
    expect(await journal.clearIfReplayed()).toBe(true);
    await journal.append([reportToStore('second')]);
    expect(await readAll(journal)).toEqual(['second']);
    await journal.close();
  });

  it('reads a line an earlier receiver wrote, whose payloads are objects (version 1)', async () => {
    const folder = freshFolder();
    const created = await openJournal({ folder, maxBytes: MiB });
    await created.close();
    const { payloadJson, ...item } = reportToStore('from-v1');
    const payload: unknown = JSON.parse(payloadJson);
    appendFileSync(join(folder, 'reports.jsonl'), `${JSON.stringify({ v: 1, items: [{ ...item, payload }] })}\n`);

    const journal = await openJournal({ folder, maxBytes: MiB });
    const [entry] = (await journal.readNext(MiB)).entries;
    expect(entry?.items?.map((each) => [each.report.reportId, each.payloadJson])).toEqual([['from-v1', '{"id":"from-v1"}']]);
    await journal.close();
  });

  it('reads a fingerprint an earlier receiver wrote (the whole hash) as the one the same report has now', async () => {
    const folder = freshFolder();
    const created = await openJournal({ folder, maxBytes: MiB });
    await created.close();
    const item = reportToStore('from-before-uuids');
    const facts = ['from-before-uuids', 1001, null, null, null, null, 1, null];
    const wholeHash = hash('sha256', JSON.stringify(facts), 'base64url');
    const line = { v: 2, items: [{ ...item, report: { ...item.report, fingerprint: wholeHash } }] };
    appendFileSync(join(folder, 'reports.jsonl'), `${JSON.stringify(line)}\n`);
    appendFileSync(join(folder, 'reports.jsonl'), `${JSON.stringify({ ...line, items: [{ ...item, report: { ...item.report, fingerprint: 'x' } }] })}\n`);

    const journal = await openJournal({ folder, maxBytes: MiB });
    const [before, unreadable] = (await journal.readNext(MiB)).entries;
    expect(before?.items?.map((each) => each.report.fingerprint)).toEqual([item.report.fingerprint]);
    expect(unreadable?.problem).toBe('a report in the journal line lacks required fields');
    await journal.close();
  });

  it('names a line it cannot read instead of failing the rest', async () => {
    const folder = freshFolder();
    const journal = await openJournal({ folder, maxBytes: MiB });
    await journal.close();
    writeFileSync(join(folder, 'reports.jsonl'), 'not json\n');
    const reopened = await openJournal({ folder, maxBytes: MiB });
    await reopened.append([reportToStore('fine')]);
    const chunk = await reopened.readNext(MiB);
    expect(chunk.entries.map((entry) => entry.problem)).toEqual(['the journal line is not JSON', null]);
    await reopened.setAside(chunk.entries[0]?.line ?? '', 'unreadable');
    expect(readFileSync(join(folder, 'set-aside.jsonl'), 'utf8')).toContain('not json');
    await reopened.close();
  });

  it('is never shared: a folder in use by a live process is refused, a stale claim is taken over', async () => {
    const folder = freshFolder();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const journal = await openJournal({ folder, maxBytes: MiB });
      await journal.close();
      writeFileSync(join(folder, 'owner'), String(other.pid));
      await expect(openJournal({ folder, maxBytes: MiB })).rejects.toBeInstanceOf(FolderInUseError);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    const taken = await openJournal({ folder, maxBytes: MiB });
    expect(JSON.parse(readFileSync(join(folder, 'owner'), 'utf8'))).toEqual({ pid: process.pid, host: hostname() });
    await taken.close();
  });
});

describe('the names the journal puts on disk when it opens', () => {
  it('syncs its folder, and every folder up to the one above the first it made', () => {
    expect(foldersToSync('/srv/dlr/data/journal', '/srv/dlr/data')).toEqual(['/srv/dlr/data/journal', '/srv/dlr/data', '/srv/dlr']);
    expect(foldersToSync('/srv/dlr/data/journal', '/srv/dlr/data/journal/')).toEqual(['/srv/dlr/data/journal', '/srv/dlr/data']);
    expect(foldersToSync('/srv/dlr/data/journal', undefined)).toEqual(['/srv/dlr/data/journal', '/srv/dlr/data']);
    expect(foldersToSync('data/journal', 'data')).toEqual([resolve('data/journal'), resolve('data'), process.cwd()]);
    expect(foldersToSync('/journal', '/journal')).toEqual(['/journal', '/']);
  });

  it('opens in a DATA_DIR three folders deep that does not exist yet', async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'dlr-journal-')), 'a', 'b', 'journal');
    const journal = await openJournal({ folder, maxBytes: MiB });
    await journal.append([reportToStore('deep-folder')]);
    expect(readFileSync(join(folder, 'reports.jsonl'), 'utf8')).toContain('deep-folder');
    await journal.close();
  });
});
