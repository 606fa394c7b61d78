// ESLint (flat config): TypeScript parsing (typescript-eslint) and the import directions of ARCHITECTURE.md,
// enforced by eslint-plugin-boundaries. `npm run lint` runs it; `npm test` runs it before the suite.
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

/** Layers, bottom-up. A file belongs to the first pattern it matches. */
const elements = [
  { type: 'domain', pattern: 'src/domain/**' },
  { type: 'config', pattern: 'src/config.ts', mode: 'file' },
  { type: 'logger', pattern: 'src/logger.ts', mode: 'file' },
  // Pure string utilities (tokenizer, stemmer, stopwords) shared by the offline providers and ingestion.
  { type: 'text', pattern: 'src/knowledge/text.ts', mode: 'file' },
  { type: 'metrics', pattern: 'src/metrics/**' },
  { type: 'audio', pattern: 'src/audio/**' },
  { type: 'twiml', pattern: 'twiml/**' },
  { type: 'providers', pattern: 'src/providers/**' },
  { type: 'analytics', pattern: 'src/analytics/**' },
  { type: 'eval', pattern: 'src/eval/**' },
  { type: 'engine', pattern: 'src/engine/**' },
  { type: 'telephony', pattern: 'src/telephony/**' },
  { type: 'db', pattern: 'src/db/**' },
  { type: 'knowledge', pattern: 'src/knowledge/**' },
  { type: 'tools', pattern: 'src/tools/**' },
  { type: 'crm', pattern: 'src/crm/**' },
  // Signed event webhooks: secrets at rest, SSRF guard, the outbox relay and the delivery worker.
  { type: 'webhooks', pattern: 'src/webhooks/**' },
  { type: 'jobs', pattern: 'src/jobs/**' },
  // Outbound campaigns: contact import, calling windows, pacing, retries, the dispatcher and the dialer.
  { type: 'campaigns', pattern: 'src/campaigns/**' },
  // Live calls across instances (feed, supervisor commands, listen-in relay) over Redis pub/sub.
  { type: 'live', pattern: 'src/live/**' },
  // Call recordings: the two-channel writer (a call tap), local / S3 storage and retention.
  { type: 'recordings', pattern: 'src/recordings/**' },
  { type: 'http', pattern: 'src/http/**' },
  { type: 'cli', pattern: 'src/cli/**' },
  { type: 'app', pattern: 'src/*.ts', mode: 'file' },
  { type: 'workers', pattern: 'workers/**' },
  { type: 'migrations', pattern: 'migrations/**' },
];

const allow = (from, to) => ({ from: { element: { type: from } }, allow: { to: { element: { types: { anyOf: to } } } } });
const LEAVES = ['domain', 'config', 'logger', 'metrics', 'text'];

export default [
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'web/**'] },
  {
    files: ['src/**/*.ts', 'workers/**/*.ts', 'twiml/**/*.ts', 'migrations/**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    plugins: { boundaries, '@typescript-eslint': tseslint.plugin },
    settings: {
      'boundaries/elements': elements,
      'boundaries/include': ['src/**/*.ts', 'workers/**/*.ts', 'twiml/**/*.ts', 'migrations/**/*.ts'],
      'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
    },
    rules: {
      'boundaries/dependencies': [
        2,
        {
          default: 'disallow',
          policies: [
            // domain: types every layer shares; imports nothing of ours.
            allow('logger', ['domain']),
            // config validates the usage price table against the domain's usage kinds (src/domain/usage.ts).
            allow('config', ['domain']),
            allow('text', ['domain']),
            allow('audio', ['domain']),
            allow('twiml', []),
            allow('providers', [...LEAVES, 'audio']),
            allow('analytics', ['domain']),
            allow('eval', ['domain']),
            // The engine runs one call against ports and provider interfaces: never the database, HTTP or Twilio.
            allow('engine', [...LEAVES, 'audio', 'providers', 'analytics']),
            allow('telephony', [...LEAVES, 'audio', 'providers', 'twiml']),
            allow('db', [...LEAVES, 'providers', 'knowledge', 'migrations']),
            allow('knowledge', [...LEAVES, 'providers', 'db']),
            allow('tools', [...LEAVES, 'providers', 'crm']),
            allow('crm', [...LEAVES, 'db', 'analytics']),
            allow('webhooks', [...LEAVES, 'db', 'crm']),
            allow('jobs', [...LEAVES, 'db']),
            allow('campaigns', [...LEAVES, 'db', 'telephony', 'twiml', 'jobs']),
            allow('live', ['domain', 'jobs']),
            allow('recordings', [...LEAVES, 'audio', 'db', 'jobs']),
            allow('http', [...LEAVES, 'audio', 'providers', 'db', 'knowledge', 'jobs', 'telephony', 'twiml', 'analytics', 'campaigns', 'live', 'recordings', 'webhooks', 'crm']),
            allow('app', [...LEAVES, 'audio', 'providers', 'engine', 'telephony', 'db', 'knowledge', 'tools', 'jobs', 'http', 'analytics', 'campaigns', 'live', 'recordings', 'webhooks', 'app']),
            allow('cli', [...LEAVES, 'audio', 'providers', 'engine', 'telephony', 'db', 'knowledge', 'jobs', 'http', 'analytics', 'eval', 'crm', 'campaigns', 'recordings', 'webhooks', 'app']),
            allow('workers', [...LEAVES, 'providers', 'db', 'knowledge', 'jobs', 'analytics', 'crm', 'campaigns', 'recordings', 'webhooks', 'app']),
            allow('migrations', []),
          ],
        },
      ],
      'boundaries/no-unknown-files': 2,
    },
  },
];
