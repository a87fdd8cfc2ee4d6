/**
 * The refusal registry: every code a request can be refused or fail with, how each medium
 * renders it, and that each one (and every decision reason) is written down in the docs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DeciderFailure } from '../../src/dataplane/decider/failure.js';
import { ForwardError } from '../../src/dataplane/dns/dns-forwarder.js';
import { AuditUnavailableError } from '../../src/dataplane/events/audit-log.js';
import { DialError } from '../../src/dataplane/net/dial.js';
import { ResolveError } from '../../src/dataplane/net/resolver.js';
import { refusalText } from '../../src/dataplane/responses/render.js';
import { noPolicyDecision } from '../../src/policy/engine/refusals.js';
import { EgressError } from '../../src/protocol/errors.js';
import {
  codeSpec,
  DECISION_REASONS,
  denial,
  failure,
  FAILURE_CODES,
  SOCKS_REPLY,
} from '../../src/protocol/refusals.js';

const docs = ['docs/events.md', 'docs/proxy.md'].map((f) => readFileSync(f, 'utf8')).join('\n');

describe('refusal codes', () => {
  it('every decision reason and every failure code is documented in docs/events.md or docs/proxy.md', () => {
    const codes = [...Object.keys(DECISION_REASONS), ...Object.keys(FAILURE_CODES)];
    const missing = codes.filter((code) => !docs.includes(`\`${code}\``));
    assert.deepEqual(missing, [], 'write each one as `code` with its meaning');
  });

  it('a denial is 403 and SOCKS "not allowed by ruleset" (an unrelayed command: "not supported")', () => {
    for (const [code, spec] of Object.entries(DECISION_REASONS)) {
      if (spec.status === null) continue;
      assert.equal(spec.status, 403, code);
      assert.equal(
        spec.socks,
        code === 'unsupported_command'
          ? SOCKS_REPLY.commandNotSupported
          : SOCKS_REPLY.notAllowedByRuleset,
        code,
      );
    }
  });

  it('failures after an allow: 502, 504 for a timeout, 503 when the audit log is down', () => {
    const status = (code: keyof typeof FAILURE_CODES) => FAILURE_CODES[code].status;
    assert.equal(status('upstream_timeout'), 504);
    for (const code of ['upstream_refused', 'upstream_unreachable', 'dns_nxdomain'] as const)
      assert.equal(status(code), 502);
    assert.equal(status('audit_unavailable'), 503);
    assert.equal(status('auth_required'), 407);
    assert.equal(new DialError('upstream_timeout', 'x').status, 504);
    assert.equal(new DialError('upstream_refused', 'x').status, 502);
    assert.deepEqual(
      (
        ['upstream_refused', 'upstream_timeout', 'upstream_unreachable', 'upstream_error'] as const
      ).map((code) => FAILURE_CODES[code].socks),
      [
        SOCKS_REPLY.connectionRefused,
        SOCKS_REPLY.ttlExpired,
        SOCKS_REPLY.hostUnreachable,
        SOCKS_REPLY.generalFailure,
      ],
    );
    assert.equal(codeSpec('not_a_code').status, 502);
  });

  it('renders a denial as the 403 page and a failure as its status and reason', () => {
    const denied = refusalText(denial(noPolicyDecision({ host: 'x.test', port: 443 })));
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['X-Egress-Reason'], 'no_policy');
    assert.match(denied.body, /No policy applies to this client/);
    const timeout = refusalText(failure('upstream_timeout', 'x.test:443 did not answer in time'));
    assert.equal(timeout.status, 504);
    assert.equal(timeout.headers['X-Egress-Reason'], 'upstream_timeout');
    const auth = refusalText(failure('auth_required', 'send Proxy-Authorization'));
    assert.equal(auth.status, 407);
    assert.equal(auth.headers['Proxy-Authenticate'], 'Basic realm="egress"');
  });

  it('every coded error is an EgressError with its code', () => {
    const errors = [
      new DialError('upstream_refused', 'refused'),
      new ResolveError('dns_nxdomain', 'no such name'),
      new DeciderFailure('decider_timeout', 'too slow'),
      new ForwardError('dns_timeout', 'no upstream answered'),
      new AuditUnavailableError('the disk is full'),
    ];
    assert.deepEqual(
      errors.map((e) => [e instanceof EgressError, e.name, e.code]),
      [
        [true, 'DialError', 'upstream_refused'],
        [true, 'ResolveError', 'dns_nxdomain'],
        [true, 'DeciderFailure', 'decider_timeout'],
        [true, 'ForwardError', 'dns_timeout'],
        [true, 'AuditUnavailableError', 'audit_unavailable'],
      ],
    );
    for (const e of errors) assert.equal(codeSpec(e.code) !== undefined, true);
  });
});
