/** Registries this machine uses join their ecosystem (npm → node, pip → python, apt → linux-distros). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { findHostRegistries, type RegistrySources } from '../../src/dataplane/host-registries.js';
import { compilePolicy, decide, emptyPolicy } from '../../src/policy/index.js';

function sources(files: Record<string, string>, env: Record<string, string> = {}): RegistrySources {
  return {
    env,
    home: '/home/u',
    cwd: '/work/app',
    readFile: (path) => files[path],
    listDir: (dir) =>
      Object.keys(files)
        .filter((f) => f.startsWith(dir + '/'))
        .map((f) => f.slice(dir.length + 1)),
  };
}

it('reads npm, pip and apt configuration into ecosystem extras', () => {
  const found = findHostRegistries(
    sources({
      '/home/u/.npmrc':
        'registry=https://npm.corp.example/repository/npm/\n@acme:registry=https://npm.acme.example/\n',
      '/etc/pip.conf':
        '[global]\nindex-url = https://pypi.corp.example/simple\nextra-index-url =\n    https://extra.corp.example/simple\n    file:///opt/wheels\n',
      '/etc/apt/sources.list':
        'deb [arch=amd64] http://mirror.corp.example/debian bookworm main\n# deb http://commented.example/ x y\n',
      '/etc/apt/sources.list.d/extra.sources':
        'Types: deb\nURIs: https://apt.corp.example/debian\nSuites: bookworm\n',
      '/etc/apt/sources.list.d/old.list.disabled': 'deb http://disabled.example/ x y\n',
    }),
  );
  assert.deepEqual(found.byEcosystem.node, ['npm.corp.example', 'npm.acme.example']);
  assert.deepEqual(found.byEcosystem.python, ['pypi.corp.example', 'extra.corp.example']);
  assert.deepEqual(found.byEcosystem['linux-distros'], ['mirror.corp.example', 'apt.corp.example']);
});

it('npm with no registry configured uses the public registry; env overrides', () => {
  assert.deepEqual(findHostRegistries(sources({})).byEcosystem.node, ['registry.npmjs.org']);
  const env = findHostRegistries(
    sources(
      {},
      {
        npm_config_registry: 'https://env.example/',
        PIP_INDEX_URL: 'https://pip.env.example/simple',
      },
    ),
  );
  assert.deepEqual(env.byEcosystem.node, ['env.example']);
  assert.deepEqual(env.byEcosystem.python, ['pip.env.example']);
});

it('a policy allowing ecosystem:python allows the corporate mirror once it is joined', () => {
  const policy = emptyPolicy('p', 'restrict');
  policy.rules = [{ kind: 'allow', selectors: [{ ecosystem: 'python' }] }];
  const extras = findHostRegistries(
    sources({ '/etc/pip.conf': 'index-url=https://pypi.corp.example/simple\n' }),
  ).byEcosystem;
  assert.equal(
    decide(compilePolicy(policy, { ecosystemExtras: extras }), {
      host: 'pypi.corp.example',
      port: 443,
    }).verdict,
    'allow',
  );
  assert.equal(
    decide(compilePolicy(policy), { host: 'pypi.corp.example', port: 443 }).verdict,
    'deny',
  );
});
