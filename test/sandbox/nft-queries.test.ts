/**
 * NftQueries with a stand-in `nft` on PATH: answers come from the long-lived `nft -j -i`, one
 * line per query; a query it does not answer falls back to a one-off `nft -j ...` run.
 */
import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NftQueries } from '../../src/dataplane/sandbox/inside/nft-queries.js';

describe('NftQueries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-fake-nft-'));
  const log = join(dir, 'runs.log');
  let path: string | undefined;

  before(() => {
    // Interactive: "list map X" answers {"name": "X"}, as nft names what it lists; "list
    // silent X" answers nothing (nft prints a refused command's error on stderr only).
    // One-off runs answer {"once":"ARGS"} and are logged.
    writeFileSync(
      join(dir, 'nft'),
      `#!/bin/sh
if [ "$2" = "-i" ]; then
  while read -r verb what name rest; do
    [ "$what" = "silent" ] && continue
    echo "{\\"name\\": \\"$name\\"}"
  done
  exit 0
fi
echo "$*" >> ${log}
echo "{\\"once\\":\\"$*\\"}"
`,
    );
    chmodSync(join(dir, 'nft'), 0o755);
    path = process.env.PATH;
    process.env.PATH = `${dir}:${path}`;
  });
  after(() => {
    process.env.PATH = path;
  });

  it('answers from one interactive nft, in order', async () => {
    const nft = new NftQueries();
    const answers = await Promise.all([nft.list('list map a'), nft.list('list map b')]);
    assert.deepEqual(answers, ['{"name": "a"}', '{"name": "b"}']);
    assert.equal(await nft.list('list map c'), '{"name": "c"}');
    nft.close();
    assert.throws(() => readFileSync(log), /ENOENT/, 'no one-off run was needed');
  });

  it('an answer goes to the query that asked for its object; a refused query runs on its own', async () => {
    const nft = new NftQueries();
    const [silent, next] = await Promise.all([nft.list('list silent x'), nft.list('list map d')]);
    assert.equal(next, '{"name": "d"}', 'not taken for the answer to the refused query');
    assert.equal(silent.trim(), '{"once":"-j list silent x"}');
    assert.equal(await nft.list('list map e'), '{"name": "e"}');
    // The last query gets no line at all: after the timeout it runs on its own too.
    assert.equal((await nft.list('list silent y')).trim(), '{"once":"-j list silent y"}');
    assert.equal(await nft.list('list map g'), '{"name": "g"}', 'a fresh interactive nft');
    nft.close();
    assert.equal((await nft.list('list map f')).trim(), '{"once":"-j list map f"}', 'closed');
  });
});
