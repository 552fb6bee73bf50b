// Lint rules: typescript-eslint's recommended set, with the type checker's help where it catches
// real bugs (floating promises lose errors; a misused promise in a callback is never awaited).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The folders of src/ in layers, bottom first, as docs/architecture.md draws them: a folder imports
// only from layers below its own (never sideways, never up), so the picture stays true.
const LAYERS = [
  ['oci'],
  ['config'],
  ['source'],
  ['registry', 'oci-layout', 'store', 'amqp', 'mirror-list'],
  ['demo', 'publish'],
  ['report'],
  ['gc'],
  ['sync', 'verify', 'check-mirror', 'freshness'],
  ['listen'],
  ['status'],
  ['serve'],
  ['cli'],
];
const layering = LAYERS.flatMap((layer, level) =>
  layer.map((folder) => {
    const forbidden = LAYERS.slice(level)
      .flat()
      .filter((f) => f !== folder);
    return {
      files: [`src/${folder}/**`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(\\.\\./)+(${forbidden.join('|')})/`,
                message: `src/${folder} sits below or beside that folder in docs/architecture.md's layers; move the shared part down`,
              },
            ],
          },
        ],
      },
    };
  }),
);

export default tseslint.config(
  { ignores: ['dist/', 'bench/build/', 'node_modules/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'test/helpers/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      // Control characters are matched on purpose: log and terminal output is sanitised or parsed.
      'no-control-regex': 'off',
    },
  },
  ...layering,
  // Tests and the benchmark read JSON documents (summaries, manifests) whose shape they assert.
  { files: ['test/**', 'bench/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
