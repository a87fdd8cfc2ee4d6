import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSds } from '../../src/policy/formats/sds/parse.js';
import { loadPolicy } from '../../src/policy/formats/index.js';
import { viaUpstreamProxy, compilePolicy } from '../../src/policy/index.js';
import { assertImportEquivalent } from '../helpers/round-trip.js';
import {
  assertOnlyPolicyErrors,
  diagnosticsOf,
  fixture,
  fixturesIn,
  verdicts,
  warningsOf,
} from '../helpers/format-fixtures.js';

const DIR = 'test/fixtures/sds';
const read = (name: string) => parseSds(fixture(`${DIR}/${name}`));

describe('sds import', () => {
  it('restrict: allow list with default deny, exact and subdomain entries', () => {
    const { policy } = read('valid/restrict.yaml');
    assert.equal(policy.name, 'Data science - restricted');
    assert.equal(policy.description, 'Notebooks reach PyPI, GitHub and the internal data lake.');
    assert.equal(policy.mode, 'restrict');
    assert.equal(policy.default, 'deny');
    assert.deepEqual(
      verdicts(policy, [
        'pypi.org',
        'www.pypi.org',
        'github.com',
        'api.github.com',
        'notgithub.com',
        'lake1.datalake.corp.example',
        'a.b.datalake.corp.example',
        'datalake.corp.example',
        '10.40.3.4:5432',
        '10.41.0.1',
        '172.16.5.10:22',
        '172.16.5.11',
        'example.com',
      ]),
      {
        'pypi.org': 'allow',
        'www.pypi.org': 'deny',
        'github.com': 'allow',
        'api.github.com': 'allow',
        'notgithub.com': 'deny',
        'lake1.datalake.corp.example': 'allow',
        'a.b.datalake.corp.example': 'allow',
        'datalake.corp.example': 'deny',
        '10.40.3.4:5432': 'allow',
        '10.41.0.1': 'deny',
        '172.16.5.10:22': 'allow',
        '172.16.5.11': 'deny',
        'example.com': 'deny',
      },
    );
    assert.equal(policy.rules[0]!.selectors[0]!.source?.line, 5);
  });

  it('restrictedTraffic: false is monitor mode: everything goes, unlisted would be denied', () => {
    const { policy } = read('valid/monitor.yaml');
    assert.equal(policy.mode, 'monitor');
    assert.deepEqual(verdicts(policy, ['api.github.com', 'example.com']), {
      'api.github.com': 'allow',
      'example.com': 'allow (would deny)',
    });
  });

  it('enabled custom endpoints are allowed and routed through the parent proxy', () => {
    const { policy } = read('valid/custom-endpoints.yaml');
    assert.deepEqual(
      policy.viaUpstreamProxy.map((s) => s.host ?? s.cidr),
      ['api.partner.example', '203.0.113.0/24'],
    );
    assert.deepEqual(
      verdicts(policy, [
        'api.partner.example',
        'eu.api.partner.example',
        '203.0.113.9',
        'github.com',
        'gist.github.com',
      ]),
      {
        'api.partner.example': 'allow',
        'eu.api.partner.example': 'allow',
        '203.0.113.9': 'allow',
        'github.com': 'allow',
        'gist.github.com': 'deny',
      },
    );
    const compiled = compilePolicy(policy);
    assert.equal(viaUpstreamProxy(compiled, { host: 'api.partner.example', port: 443 }), true);
    assert.equal(viaUpstreamProxy(compiled, { host: 'github.com', port: 443 }), false);
  });

  it('disabled custom endpoints are cleared, with a warning for each list', () => {
    const parsed = read('valid/custom-disabled.yaml');
    assert.deepEqual(parsed.policy.viaUpstreamProxy, []);
    assert.equal(parsed.policy.rules.length, 1);
    assert.deepEqual(verdicts(parsed.policy, ['api.partner.example', '203.0.113.9']), {
      'api.partner.example': 'deny',
      '203.0.113.9': 'deny',
    });
    assert.deepEqual(warningsOf(parsed), [
      `${DIR}/valid/custom-disabled.yaml:8:1: warning: "customEndpointsViaProxyDomains" is ignored because customEndpointsEnabled is not true — set "customEndpointsEnabled: true" to use it, or remove the list`,
      `${DIR}/valid/custom-disabled.yaml:11:1: warning: "customEndpointsViaProxyIps" is ignored because customEndpointsEnabled is not true — set "customEndpointsEnabled: true" to use it, or remove the list`,
    ]);
  });

  it('no lists in restrict mode denies everything', () => {
    const { policy } = read('valid/deny-all.yaml');
    assert.deepEqual(policy.rules, []);
    assert.deepEqual(verdicts(policy, ['github.com', '8.8.8.8:53']), {
      'github.com': 'deny',
      '8.8.8.8:53': 'deny',
    });
  });

  it('every valid fixture reads the same back from native YAML', () => {
    for (const file of fixturesIn(`${DIR}/valid`).concat('examples/sds-restrict.yaml')) {
      assertImportEquivalent(parseSds(fixture(file)).policy);
    }
  });

  it('is registered as --from sds', () => {
    assert.equal(loadPolicy('sds', fixture('examples/sds-restrict.yaml')).policy.mode, 'restrict');
  });

  const invalid: Record<string, string[]> = {
    'unknown-field.yaml': [
      '4:1: unknown field "whitelistedDomain" — did you mean "whitelistedDomains"?',
    ],
    'nested-typo.yaml': [
      '6:5: unknown field "includeSubdomians" in "whitelistedDomains" — did you mean "includeSubdomains"?',
    ],
    'host-bits.yaml': ['6:5: 10.0.0.1/24 has host bits set — did you mean 10.0.0.0/24?'],
    'empty-name.yaml': [
      '1:7: "name" must not be empty — write the policy name',
      '2:14: "description" must not be empty — say in a few words what the policy does',
    ],
    'missing-restricted.yaml': [
      '1:1: missing required field "restrictedTraffic" — add "restrictedTraffic: ..." here',
    ],
    'bad-types.yaml': [
      '3:20: "restrictedTraffic" must be true or false, not "yes"',
      '4:17: "whitelistedIps" must be a list, not "10.0.0.0/8"',
    ],
    'wrong-lists.yaml': [
      '5:13: "10.1.2.3" is an IP address, not a domain — move it to "whitelistedIps"',
      '8:5: includeSubdomains needs an exact domain, not the wildcard "*.example.com" — write "domain: example.com" with includeSubdomains: true',
      '9:13: "https://gitlab.com" is not a host pattern — write the host name alone: "gitlab.com"',
      '11:5: "registry.npmjs.org" is a domain name, not an IPv4 address or CIDR range — move it to "whitelistedDomains" as "- domain: registry.npmjs.org"',
      '12:5: "2001:db8::/32" is an IPv6 address; "whitelistedIps" takes IPv4 addresses and CIDR ranges only — use the native format for IPv6 destinations',
      '13:5: "300.1.1.1" is not a valid IPv4 address (a part is over 255)',
    ],
  };
  for (const [name, expected] of Object.entries(invalid)) {
    it(`rejects invalid/${name} at the right place`, () => {
      const file = `${DIR}/invalid/${name}`;
      assert.deepEqual(
        diagnosticsOf(() => parseSds(fixture(file))),
        expected.map((e) => `${file}:${e}`),
      );
    });
  }

  it('every invalid fixture has its expected diagnostics listed', () => {
    assert.deepEqual(
      fixturesIn(`${DIR}/invalid`).map((f) => f.split('/').pop()),
      Object.keys(invalid).sort(),
    );
  });

  it('never throws anything but PolicyError', () => {
    const seeds = fixturesIn(`${DIR}/valid`).map((f) => fixture(f).text);
    assertOnlyPolicyErrors(parseSds, seeds);
  });
});
