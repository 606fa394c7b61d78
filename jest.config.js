/** Jest: ts-jest transpiles TypeScript (type checking runs separately via `tsc --noEmit`).
 * franc and its helpers ship as ESM only, so they are transpiled to CommonJS for Jest's module system. */
const esmOnly = ['franc', 'trigram-utils', 'n-gram', 'collapse-white-space'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  testTimeout: 60000,
  maxWorkers: 2,
};
