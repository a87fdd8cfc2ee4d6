// ESLint flat config. Besides the usual checks it enforces the layer arrows of DESIGN.md
// section 2: src/policy is pure (no sockets, DNS or files), src/control never imports the
// data plane, and the sandbox bridge loads node built-ins only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeIo = [
  'net',
  'dns',
  'fs',
  'tls',
  'dgram',
  'http',
  'https',
  'child_process',
  'fs/promises',
  'dns/promises',
];
const ioPaths = nodeIo
  .flatMap((m) => [m, `node:${m}`])
  .map((name) => ({
    name,
    message:
      'src/policy must stay pure and browser-safe: do I/O in src/dataplane or src/cli and pass data in.',
  }));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        performance: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always'],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {
    files: ['src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioPaths,
          patterns: [
            {
              group: ['**/dataplane/**', '**/control/**', '**/cli/**'],
              message: 'src/policy must not depend on outer layers.',
            },
            {
              group: ['node:*'],
              message:
                'src/policy is pure and browser-safe (the web console runs it): no node:* module at all.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/policy is pure: take configuration as arguments.' },
      ],
    },
  },
  {
    // The wire contracts shared by the data plane, the control plane and the console.
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioPaths.map((p) => ({
            ...p,
            message: 'src/protocol is pure and browser-safe: no Node I/O modules.',
          })),
          patterns: [
            {
              group: ['**/dataplane/**', '**/control/**', '**/cli/**', 'node:*'],
              message: 'src/protocol may import src/policy only.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/protocol is pure: take configuration as arguments.' },
      ],
    },
  },
  {
    // The sandbox bridge is PID 1 of the namespaces and its start-up is the sandbox's overhead:
    // what runs there (inside/, and the pure rule text it renders) imports node built-ins, the
    // IPC contract and each other only, never pino, zod or the rest of the data plane.
    files: ['src/dataplane/sandbox/inside/**/*.ts', 'src/dataplane/sandbox/rules/netns-rules.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Anything but node:*, ./NAME.js, ../protocol.js and ../rules/netns-rules.js.
              regex:
                '^(?!node:|\\./[\\w.-]+\\.js$|\\.\\./protocol\\.js$|\\.\\./rules/netns-rules\\.js$)',
              message:
                'The sandbox bridge imports node:* built-ins, ../protocol.js, ../rules/netns-rules.js and the other inside/ files only (docs/sandbox.md "How it works").',
            },
          ],
        },
      ],
    },
  },
  {
    // The IPC contract between egress run and the bridge: types and constants, no imports.
    files: ['src/dataplane/sandbox/protocol.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '.', message: 'protocol.ts is the IPC contract: no imports.' }] },
      ],
    },
  },
  {
    files: ['src/control/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/dataplane/**'],
              message: 'The control plane never imports the data plane (DESIGN.md section 2).',
            },
          ],
        },
      ],
    },
  },
);
