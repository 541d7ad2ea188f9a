// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  { files: ['src/cli/**', 'bench/**', 'examples/**', 'test/**', '.ci/**'], rules: { 'no-console': 'off' } },
  {
    // The verification core stays free of transport, metrics and logging code.
    files: ['src/verification/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@grpc/*', 'prom-client', 'pino', 'pino-*', '../server/*', '../telemetry/*'] }],
    },
  },
  {
    // The contract is the ground floor: every part stands on it, so it stands on nothing else of src/.
    files: ['src/contract/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['../*', '../../*'] }],
    },
  },
  {
    // The client library imports nothing of the server.
    files: ['src/client/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['../server/*', '../app.js', '../main.js', '../config/*', '../telemetry/*'] }],
    },
  },
);
