/**
 * Monitor mode with a deny rule marked `enforce: always` (smokescreen's global deny list for a
 * role in report mode): that rule's destinations are refused through the proxy, directly and
 * by Host-header fronting, while every other denial is only recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOrigin, startProxy, type Origin, type TestProxy } from '../helpers/proxy-harness.js';
import { curlStatus } from '../helpers/run.js';

const POLICY = `version: 1
name: monitor-with-global-deny
mode: monitor
rules:
  - name: global_deny_list
    deny: [blocked.test]
    enforce: always
  - allow: [allowed.test, "127.0.0.2"]
`;

describe('monitor mode with "enforce: always"', () => {
  let origin: Origin;
  let proxy: TestProxy;

  before(async () => {
    origin = await startOrigin('127.0.0.2');
    proxy = await startProxy(POLICY, {
      pins: { 'allowed.test': '127.0.0.2', 'blocked.test': '127.0.0.2', 'other.test': '127.0.0.2' },
    });
  });

  after(async () => {
    await proxy.close();
    await origin.close();
  });

  const get = (url: string, extra: string[] = []) => curlStatus(proxy.url, url, extra);

  it('the flagged deny rule refuses its destination', async () => {
    const r = await get(`http://blocked.test:${origin.port}/`);
    assert.equal(r.stdout, '403 denied_by_rule');
    const denied = proxy.events.find(
      (e) => e.type === 'request.denied' && e.destination?.host === 'blocked.test',
    );
    assert.ok(denied, 'a request.denied event is recorded');
    assert.equal(denied.enforced, true);
    assert.equal(denied.wouldDeny, false);
  });

  it('other denials are only recorded, as monitor mode does', async () => {
    const r = await get(`http://other.test:${origin.port}/`);
    assert.equal(r.stdout, '200 ');
  });

  it('Host fronting cannot reach the flagged destination through an allowed name', async () => {
    const fronted = await get(`http://allowed.test:${origin.port}/`, [
      '-H',
      `Host: blocked.test:${origin.port}`,
    ]);
    assert.equal(fronted.stdout, '403 host_mismatch');
    const monitored = await get(`http://allowed.test:${origin.port}/`, [
      '-H',
      `Host: other.test:${origin.port}`,
    ]);
    assert.equal(monitored.stdout, '200 ');
  });
});
