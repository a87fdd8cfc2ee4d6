/**
 * Durability with real processes: a child writes acknowledged transactions in a loop and is
 * killed with SIGKILL mid-load; reopened, the store has every transaction the child
 * acknowledged, and each transaction whole or not at all. On PostgreSQL the server is then
 * crash-stopped too (pg_ctl stop -m immediate, fsync on) and restarted before the check.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore, type StoreLocation } from '../../src/control/store/open.js';
import {
  canCrashPostgres,
  startPostgres,
  withoutPostgres,
  type PostgresServer,
} from '../helpers/postgres.js';

const WRITER = join(import.meta.dirname, 'store-writer.js');
const BATCH = 100;

/** Runs the writer until it acknowledged `acks` transactions (or 20 s), then SIGKILLs it. */
async function writeAndKill(location: StoreLocation, acks: number): Promise<number[]> {
  const child = spawn(process.execPath, [WRITER, JSON.stringify(location), String(BATCH)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked: number[] = [];
  let stderr = '';
  let buffer = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const m = /^ack (\d+)$/.exec(line);
      if (m) acked.push(Number(m[1]));
      if (acked.length === acks) child.kill('SIGKILL');
    }
  });
  await exited;
  clearTimeout(killer);
  assert.equal(child.signalCode, 'SIGKILL', `the writer died by itself: ${stderr}`);
  assert.ok(acked.length > 0, `the writer acknowledged nothing: ${stderr}`);
  return acked;
}

async function checkEveryAck(location: StoreLocation, acked: number[]): Promise<void> {
  const store = await openStore(location);
  try {
    const last = acked[acked.length - 1]!;
    for (const n of [...acked, last + 1, last + 2]) {
      const user = await store.getUserByName(`writer-${n}`);
      const first = await store.getEvent(`kill-${n}-0`);
      const lastEvent = await store.getEvent(`kill-${n}-${BATCH - 1}`);
      if (n <= last) {
        assert.ok(user && first && lastEvent, `acknowledged transaction ${n} is missing`);
      } else {
        // Beyond the last ack: committed or not, but never half.
        assert.equal(Boolean(user), Boolean(first), `transaction ${n} is half there`);
        assert.equal(Boolean(first), Boolean(lastEvent), `transaction ${n} is half there`);
      }
    }
    const total = (await store.eventFacets({ type: 'request.denied' })).total;
    assert.ok(total >= acked.length * BATCH && total % BATCH === 0, `events stored: ${total}`);
  } finally {
    await store.close();
  }
}

describe('store durability through kill -9', () => {
  it('SQLite (WAL): every acknowledged transaction survives SIGKILL of the writer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-crash-'));
    try {
      const location: StoreLocation = { kind: 'sqlite', path: join(dir, 'egress.db') };
      const acked = await writeAndKill(location, 60);
      await checkEveryAck(location, acked);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('PostgreSQL', { skip: withoutPostgres() }, () => {
    let server: PostgresServer | undefined;
    after(async () => server?.stop());

    it('every acknowledged transaction survives SIGKILL of the writer and a server crash', async () => {
      server = await startPostgres({ fsync: true });
      const location: StoreLocation = { kind: 'postgres', url: await server.createDatabase() };
      const acked = await writeAndKill(location, 60);
      if (canCrashPostgres()) {
        server.crash();
        server.restart();
      }
      await checkEveryAck(location, acked);
    });
  });
});
