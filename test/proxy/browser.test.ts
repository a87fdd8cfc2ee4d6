/**
 * Headless Chromium (Debian's package, driven by playwright-core) browsing an allowed and a
 * denied page through the proxy, as DESIGN.md section 7 describes.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import { chromium } from 'playwright-core';
import { eventually, startOrigin, startProxy } from '../helpers/proxy-harness.js';

const CHROMIUM = '/usr/bin/chromium';

it(
  'Chromium browses an allowed page and gets the explained 403 for a denied one',
  {
    skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`,
    timeout: 60_000,
  },
  async () => {
    const origin = await startOrigin('127.0.0.2', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<html><head><title>allowed page</title></head><body><h1 id="h">hello ${req.url}</h1></body></html>`,
      );
    });
    const proxy = await startProxy(
      'version: 1\nname: browser\nmode: restrict\nrules:\n  - allow: [allowed.test, "127.0.0.2"]\n',
      {
        pins: { 'allowed.test': '127.0.0.2', 'denied.test': '127.0.0.2' },
      },
    );
    // launch() gives every run a fresh, empty profile directory of its own.
    const browser = await chromium
      .launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--disable-features=HttpsUpgrades',
          '--proxy-bypass-list=<-loopback>',
        ],
        proxy: { server: proxy.url, bypass: '<-loopback>' },
      })
      .catch(async (err: unknown) => {
        await proxy.close();
        await origin.close();
        throw err;
      });
    try {
      const page = await browser.newPage();
      const ok = await page.goto(`http://allowed.test:${origin.port}/page`);
      assert.equal(ok?.status(), 200);
      assert.equal(await page.textContent('#h'), 'hello /page');
      const denied = await page.goto(`http://denied.test:${origin.port}/page`);
      assert.equal(denied?.status(), 403);
      assert.equal(await denied?.headerValue('x-egress-reason'), 'default_deny');
      assert.match(
        (await page.textContent('body')) ?? '',
        /egress denied this connection[\s\S]*Destination: denied\.test/,
      );
      assert.ok(
        !origin.seen.some((s) => s.host?.startsWith('denied.test')),
        'the denied upstream saw nothing',
      );
      await eventually(() =>
        proxy.events.some(
          (e) => e.type === 'request.denied' && e.destination?.host === 'denied.test',
        ),
      );
    } finally {
      await browser.close();
      await proxy.close();
      await origin.close();
    }
  },
);
