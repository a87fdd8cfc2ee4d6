/**
 * `egress summary` of a monitor policy says what monitor mode does: it blocks nothing (except
 * deny rules marked "enforce: always"), and records what restrict would block (issue 16.9).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicy } from '../../src/policy/formats/index.js';
import { summarise } from '../../src/policy/summary.js';

const TEXT = `version: 1
name: watch
mode: monitor
rules:
  - deny: [pastebin.com]
  - deny: [evil.example]
    enforce: always
  - allow: ["**.example.com"]
`;

describe('summary of a monitor policy', () => {
  const words = summarise(loadPolicy('native', { text: TEXT, file: 'p.yaml' }).policy).join('\n');

  it('a deny rule "would block", not "blocks"', () => {
    assert.match(
      words,
      /1\. Would block \(recorded as "would deny", let through\):\n\s+- pastebin\.com/,
    );
    assert.match(words, /2\. Blocks, even in monitor mode:\n\s+- evil\.example/);
  });

  it('the default and the address classes are recorded, not blocked', () => {
    assert.match(
      words,
      /Everything else would be blocked in restrict mode: it is recorded as "would deny" and let through\./,
    );
    assert.doesNotMatch(words, /Everything else is blocked/);
    assert.match(
      words,
      /Loopback, link-local, cloud metadata, private-range and multicast addresses are recorded as "would deny" and let through/,
    );
    assert.doesNotMatch(words, /stay blocked/);
  });

  it('restrict policies keep their words', () => {
    const r = summarise(
      loadPolicy('native', {
        text: TEXT.replace('mode: monitor', 'mode: restrict'),
        file: 'p.yaml',
      }).policy,
    ).join('\n');
    assert.match(r, /1\. Blocks:\n/);
    assert.match(r, /Everything else is blocked\./);
    assert.match(r, /addresses stay blocked/);
  });
});
