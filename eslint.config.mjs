// Lint rules: typescript-eslint's type-aware checks (floating promises, exhaustive switches),
// import boundaries between components, and the determinism bans inside engine/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const clockAndRandom = [
  { object: 'Date', property: 'now', message: 'engine code is deterministic: time comes in with the command' },
  { object: 'performance', property: 'now', message: 'engine code is deterministic: time comes in with the command' },
  { object: 'Math', property: 'random', message: 'engine code is deterministic: no random numbers' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allow: [{ from: 'lib', name: 'bigint' }] }],
    },
  },
  {
    files: ['engine/**/*.ts'],
    ignores: ['engine/**/*.test.ts', 'engine/test/**'],
    rules: {
      'no-restricted-properties': ['error', ...clockAndRandom],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'engine code never reads the clock' }],
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/gateway/**', '**/history/**', '**/market/**', '**/bench/**'], message: 'engine/ depends on nothing but conf/' },
      ] }],
    },
  },
  {
    files: ['conf/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/engine/**', '**/gateway/**', '**/history/**', '**/market/**', '**/bench/**'], message: 'conf/ is a leaf' },
      ] }],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
