/**
 * Import rules `make check` enforces with dependency-cruiser (`make deps`). ESLint's no-restricted-imports
 * keeps each folder to its allowed neighbours; this proves there is no cycle anywhere in src/.
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle means two files are one concept, or a dependency runs back up the house (STYLE.md).',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a cycle through types still ties two folders together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
