// ESLint flat config. Besides the usual checks it enforces the layer arrows of DESIGN.md
// section 2: src/policy is pure (no sockets, DNS or files) and src/control never imports the
// data plane.
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
