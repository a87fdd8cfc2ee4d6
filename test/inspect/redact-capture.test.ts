/** Redaction and body capture, on their own. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BodyCapture, renderBody } from '../../src/dataplane/inspect/capture.js';
import { REDACTED, Redactor } from '../../src/dataplane/inspect/redact.js';

describe('redaction', () => {
  it('always replaces credential headers whole, and applies patterns elsewhere', () => {
    const r = new Redactor(['sk-[A-Za-z0-9]{8,}']);
    assert.deepEqual(
      r.headers({
        Authorization: 'Bearer abc',
        'proxy-authorization': 'Basic xyz',
        cookie: 'a=b',
        'set-cookie': ['a=1', 'b=2'],
        'x-key': 'key sk-ABCDEFGH12 and sk-ZYXWVUTS99',
        accept: '*/*',
      }),
      {
        Authorization: REDACTED,
        'proxy-authorization': REDACTED,
        cookie: REDACTED,
        'set-cookie': [REDACTED, REDACTED],
        'x-key': `key ${REDACTED} and ${REDACTED}`,
        accept: '*/*',
      },
    );
    // Reusing a global pattern must not skip matches (lastIndex).
    assert.equal(r.text('sk-AAAAAAAAAA'), REDACTED);
    assert.equal(r.text('sk-AAAAAAAAAA'), REDACTED);
  });
});

describe('body capture', () => {
  const capture = (chunks: Buffer[], limit: number) => {
    const c = new BodyCapture(limit);
    chunks.forEach((chunk) => c.add(chunk));
    return c;
  };
  const none = new Redactor([]);

  it('keeps the first maxBodyCapture bytes and counts all', () => {
    const c = capture([Buffer.from('hello '), Buffer.from('world, and more')], 8);
    assert.deepEqual(renderBody(c, undefined, 8, none), {
      bytes: 21,
      truncated: true,
      text: 'hello wo',
    });
  });

  it('does not cut a UTF-8 character in half at the limit', () => {
    const c = capture([Buffer.from('aé')], 2); // 'a' + first byte of 'é'
    assert.equal(renderBody(c, undefined, 2, none).text, 'a');
  });

  it('decodes gzip bodies (even a cut prefix) before redacting', () => {
    const body = gzipSync(
      Buffer.from('{"token":"sk-SECRETSECRET","pad":"' + 'p'.repeat(500) + '"}'),
    );
    const c = capture([body], 40);
    const out = renderBody(c, 'gzip', 40, new Redactor(['sk-[A-Z]+']));
    assert.equal(out.decoded, 'gzip');
    assert.ok(out.text!.startsWith(`{"token":"${REDACTED}"`), out.text);
    assert.ok(!JSON.stringify(out).includes('SECRET'));
  });

  it('does not record binary bodies or unknown encodings', () => {
    const bin = capture([Buffer.from([0xff, 0xfe, 0x00, 0x80])], 16);
    assert.equal(renderBody(bin, undefined, 16, none).omitted, 'binary (not UTF-8 text)');
    const zstd = capture([Buffer.from('x')], 16);
    assert.equal(renderBody(zstd, 'zstd', 16, none).omitted, 'encoding zstd');
    const off = capture([Buffer.from('x')], 0);
    assert.equal(renderBody(off, undefined, 0, none).omitted, 'maxBodyCapture is 0');
  });
});
