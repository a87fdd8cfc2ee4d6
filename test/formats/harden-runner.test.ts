import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseHardenRunner } from '../../src/policy/formats/harden-runner/parse.js';
import { loadPolicy } from '../../src/policy/formats/index.js';
import type { FormatInput } from '../../src/policy/formats/types.js';
import { assertImportEquivalent } from '../helpers/round-trip.js';
import {
  assertOnlyPolicyErrors,
  diagnosticsOf,
  fixture,
  fixturesIn,
  verdicts,
  warningsOf,
} from '../helpers/format-fixtures.js';

const DIR = 'test/fixtures/harden-runner';
const CLUSTER = `${DIR}/cluster/arc-cluster.yml`;

/** A policy store that is a folder of NAME.yml files, as the CLI is expected to provide. */
function storeIn(dir: string): FormatInput['resolveNamedPolicy'] {
  return (name) => {
    const file = `${dir}/${name}.yml`;
    return existsSync(file) ? fixture(file) : undefined;
  };
}

function read(path: string, options: Partial<FormatInput> = {}) {
  return parseHardenRunner({
    ...fixture(path),
    resolveNamedPolicy: storeIn(`${DIR}/policy-store`),
    ...options,
  });
}

describe('harden-runner import', () => {
  it('block: restrict with the allowed endpoints; no port means 443; *.x is any depth', () => {
    const { policy } = read(`${DIR}/valid/single-job.yml`);
    assert.equal(policy.name, 'Build / build');
    assert.equal(policy.mode, 'restrict');
    assert.deepEqual(
      verdicts(policy, [
        'api.github.com',
        'api.github.com:80',
        'codeload.github.com',
        'gist.github.com',
        'proxy.golang.org:443',
        'proxy.golang.org:80',
        'registry-1.docker.io',
        'a.b.docker.io',
        'docker.io',
        '10.0.5.20:8080',
        '10.0.5.20:443',
        'example.com',
      ]),
      {
        'api.github.com': 'allow',
        'api.github.com:80': 'deny',
        'codeload.github.com': 'allow',
        'gist.github.com': 'deny',
        'proxy.golang.org:443': 'allow',
        'proxy.golang.org:80': 'deny',
        'registry-1.docker.io': 'allow',
        'a.b.docker.io': 'allow',
        'docker.io': 'deny',
        '10.0.5.20:8080': 'allow',
        '10.0.5.20:443': 'deny',
        'example.com': 'deny',
      },
    );
    const sources = policy.rules[0]!.selectors.map((s) => `${s.source?.line}:${s.source?.col}`);
    assert.deepEqual(sources, ['12:13', '13:13', '13:28', '14:13', '15:13', '16:13']);
  });

  it('jobs with the same configuration need no --role; audit is monitor', () => {
    const parsed = read(`${DIR}/valid/same-config.yml`);
    assert.equal(parsed.policy.mode, 'monitor');
    assert.deepEqual(verdicts(parsed.policy, ['github.com', 'example.com']), {
      'github.com': 'allow',
      'example.com': 'allow (would deny)',
    });
    assert.deepEqual(warningsOf(parsed), [
      `${DIR}/valid/same-config.yml:22:3: warning: job "notify" has no harden-runner step and no cluster-level policy was given, so this policy does not cover it`,
    ]);
  });

  it('reads a bare with: block and a single step', () => {
    const withBlock = read(`${DIR}/valid/with-block.yml`).policy;
    assert.equal(withBlock.name, 'with-block');
    assert.equal(withBlock.mode, 'monitor');
    const step = read(`${DIR}/valid/step.yml`).policy;
    assert.equal(step.name, 'Harden Runner');
    assert.deepEqual(
      verdicts(step, ['objects.githubusercontent.com', 'raw.githubusercontent.com']),
      {
        'objects.githubusercontent.com': 'allow',
        'raw.githubusercontent.com': 'deny',
      },
    );
  });

  it('policy: NAME takes egress-policy from the store, and its endpoints when the step has none', () => {
    const { policy } = read(`${DIR}/valid/named-policy.yml`);
    assert.equal(policy.mode, 'restrict', "the store's block beats the step's audit");
    assert.deepEqual(verdicts(policy, ['rekor.sigstore.dev', 'registry.npmjs.org', 'pypi.org']), {
      'rekor.sigstore.dev': 'allow',
      'registry.npmjs.org': 'allow',
      'pypi.org': 'deny',
    });
    const source = policy.rules[0]!.selectors[0]!.source!;
    assert.equal(`${source.file}:${source.line}`, `${DIR}/policy-store/release-policy.yml:3`);
    const own = read(`${DIR}/valid/named-policy-local-endpoints.yml`).policy;
    assert.equal(own.mode, 'restrict');
    assert.deepEqual(verdicts(own, ['registry.npmjs.org', 'github.com']), {
      'registry.npmjs.org': 'allow',
      'github.com': 'deny',
    });
  });

  it('the cluster-level policy covers jobs without a step; a job-level policy wins entirely', () => {
    const clusterPolicy = fixture(CLUSTER);
    const build = read(`${DIR}/valid/cluster.yml`, { role: 'build', clusterPolicy }).policy;
    assert.equal(build.name, 'arc-cluster (cluster-level)');
    assert.deepEqual(verdicts(build, ['ghcr.io', 'github.com']), {
      'ghcr.io': 'allow',
      'github.com': 'allow',
    });
    const docs = read(`${DIR}/valid/cluster.yml`, { role: 'docs', clusterPolicy }).policy;
    assert.deepEqual(verdicts(docs, ['ghcr.io', 'github.com']), {
      'ghcr.io': 'deny',
      'github.com': 'allow',
    });
    assert.deepEqual(
      diagnosticsOf(() => read(`${DIR}/valid/cluster.yml`, { clusterPolicy })),
      [
        `${DIR}/valid/cluster.yml:3:1: the jobs of this workflow have different Harden-Runner policies ("build" / "docs"), and one policy file holds one of them — pick a job with --role JOB_ID, e.g. --role build`,
      ],
    );
  });

  it('--role names a job of the workflow', () => {
    assert.deepEqual(
      diagnosticsOf(() => read(`${DIR}/valid/cluster.yml`, { role: 'biuld' })),
      [`${DIR}/valid/cluster.yml:3:1: this workflow has no job "biuld" — did you mean "build"?`],
    );
    assert.deepEqual(
      diagnosticsOf(() => read(`${DIR}/valid/cluster.yml`, { role: 'build' })),
      [
        `${DIR}/valid/cluster.yml:4:3: job "build" has no step-security/harden-runner step, and no cluster-level policy was given — add a harden-runner step to the job, or give the cluster-level policy`,
      ],
    );
    const deploy = read(`${DIR}/invalid/different-jobs.yml`, { role: 'deploy' }).policy;
    assert.equal(deploy.mode, 'monitor');
  });

  it('every valid fixture reads the same back from native YAML', () => {
    for (const file of fixturesIn(`${DIR}/valid`)) {
      // cluster.yml: the build job, covered by the cluster-level policy.
      const options: Partial<FormatInput> = file.endsWith('/cluster.yml')
        ? { role: 'build', clusterPolicy: fixture(CLUSTER) }
        : {};
      assertImportEquivalent(read(file, options).policy);
    }
    for (const role of ['build', 'release'])
      assertImportEquivalent(
        parseHardenRunner({
          ...fixture('examples/harden-runner-workflow.yml'),
          role,
          resolveNamedPolicy: storeIn('examples/harden-runner-policies'),
        }).policy,
      );
  });

  it('is registered as --from harden-runner', () => {
    const parsed = loadPolicy('harden-runner', {
      ...fixture('examples/harden-runner-workflow.yml'),
      role: 'release',
      resolveNamedPolicy: storeIn('examples/harden-runner-policies'),
    });
    assert.deepEqual(verdicts(parsed.policy, ['fulcio.sigstore.dev', 'pypi.org']), {
      'fulcio.sigstore.dev': 'allow',
      'pypi.org': 'deny',
    });
  });

  it('warns when block allows nothing', () => {
    const parsed = parseHardenRunner({ text: 'egress-policy: block\n', file: 'w.yml' });
    assert.deepEqual(warningsOf(parsed), [
      "w.yml:1:1: warning: egress-policy is block and allowed-endpoints is empty: only Harden-Runner's 7 implicit endpoints (agent.api.stepsecurity.io, codeload.github.com, the GitHub Actions service) are allowed",
    ]);
    assert.equal(
      parseHardenRunner({ text: 'disable-sudo: true\n', file: 'w.yml' }).policy.mode,
      'restrict',
      'the action defaults to block',
    );
  });

  const invalid: Record<string, string[]> = {
    'unknown-input.yml': [
      '8:11: unknown field "allowed-endpoint" in "with" — did you mean "allowed-endpoints"?',
    ],
    'bad-egress.yml': [
      '1:16: "egress-policy" must be "audit" or "block", not "blok" — did you mean "block"?',
    ],
    'bad-endpoints.yml': [
      '3:18: "api.github.com:8000-8999" has a port range; Harden-Runner takes one port per endpoint — list each port as its own endpoint',
      '4:3: "https://pypi.org/simple" is a URL; allowed-endpoints takes host:port — write "pypi.org:443"',
      '5:3: "bad_host!" is not a valid host name label (letters, digits, "-" and "_" only, not starting or ending with "-")',
      '6:3: "registry.npmjs.org:70000": "70000" is out of range — ports are whole numbers from 1 to 65535',
    ],
    'missing-named-policy.yml': [
      '7:19: the policy store has no policy named "does-not-exist" — add does-not-exist.yml to the policy store',
    ],
    'different-jobs.yml': [
      '1:1: the jobs of this workflow have different Harden-Runner policies ("build" / "deploy"), and one policy file holds one of them — pick a job with --role JOB_ID, e.g. --role build',
    ],
    'no-harden-runner.yml': [
      '1:1: no job of this workflow uses step-security/harden-runner — add "- uses: step-security/harden-runner@v2" as the first step of a job',
    ],
    'expression.yml': [
      '1:16: "egress-policy" is a GitHub Actions expression, known only when the job runs — write the value itself',
      '2:20: "allowed-endpoints" is a GitHub Actions expression, known only when the job runs — write the value itself',
    ],
    'use-policy-store.yml': [
      '1:1: "use-policy-store" fetches the policy attached to this workflow from StepSecurity when the job runs; egress cannot see it — name the policy with "policy: NAME" and pass the policy store folder with --policy-store DIR',
    ],
    'twice.yml': [
      '8:15: job "build" runs step-security/harden-runner twice — keep one harden-runner step, the first step of the job',
    ],
  };
  for (const [name, expected] of Object.entries(invalid)) {
    it(`rejects invalid/${name} at the right place`, () => {
      const file = `${DIR}/invalid/${name}`;
      assert.deepEqual(
        diagnosticsOf(() => read(file)).filter((d) => !d.includes(': warning: ')),
        expected.map((e) => `${file}:${e}`),
      );
    });
  }

  it('errors in a named policy point into the policy store file', () => {
    assert.deepEqual(
      diagnosticsOf(() => read(`${DIR}/invalid/broken-named-policy.yml`)),
      [
        `${DIR}/policy-store/broken.yml:2:1: unknown field "allowed-endpoint" — did you mean "allowed-endpoints"?`,
      ],
    );
  });

  it('without a policy store, policy: NAME is an error at the policy line', () => {
    const file = `${DIR}/invalid/missing-named-policy.yml`;
    assert.deepEqual(
      diagnosticsOf(() => read(file, { resolveNamedPolicy: undefined })),
      [
        `${file}:7:19: "policy: does-not-exist" names a policy from a policy store, and no policy store was given — pass the policy store folder that holds does-not-exist.yml with --policy-store DIR`,
      ],
    );
  });

  it('every invalid fixture is checked', () => {
    assert.deepEqual(
      fixturesIn(`${DIR}/invalid`).map((f) => f.split('/').pop()),
      [...Object.keys(invalid), 'broken-named-policy.yml'].sort(),
    );
  });

  it('never throws anything but PolicyError', () => {
    const seeds = fixturesIn(`${DIR}/valid`).map((f) => fixture(f).text);
    assertOnlyPolicyErrors(parseHardenRunner, seeds, {
      resolveNamedPolicy: storeIn(`${DIR}/policy-store`),
      clusterPolicy: fixture(CLUSTER),
    });
    assertOnlyPolicyErrors(parseHardenRunner, seeds, { role: 'build' });
  });
});
