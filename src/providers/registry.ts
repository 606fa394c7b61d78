import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Embedder, LlmProvider, SttProvider, TtsProvider, VectorStore } from './types';
import { LocalPocketsphinxStt } from './stt/local-pocketsphinx';
import { FakeStt } from './stt/fake';
import { LocalEspeakTts } from './tts/local-espeak';
import { FakeTts } from './tts/fake';
import { LocalResponder } from './llm/local-responder';
import { FakeLlm } from './llm/fake';
import { LocalHashEmbedder } from './embeddings/local-hash';
import { PostgresVectorStore } from './vector/postgres';

export interface Providers {
  stt: SttProvider;
  tts: TtsProvider;
  llm: LlmProvider;
  embedder: Embedder;
  vectors: VectorStore;
}

/**
 * Builds one provider per capability from `config.providers` (the `*_PROVIDER` choices). Providers get typed
 * options here and never read the environment themselves.
 */
export function buildProviders(config: Readonly<Config>, d: { db: Knex; logger: Logger }): Providers {
  const embedder = new LocalHashEmbedder();
  const stt: SttProvider =
    config.providers.stt === 'fake' ? new FakeStt({ latencyMs: config.fake.sttMs }) : new LocalPocketsphinxStt({ pythonBin: config.local.pythonBin, logger: d.logger });
  const tts: TtsProvider =
    config.providers.tts === 'fake' ? new FakeTts({ firstByteMs: config.fake.ttsFirstByteMs }) : new LocalEspeakTts({ bin: config.local.espeakBin, logger: d.logger });
  const llm: LlmProvider =
    config.providers.llm === 'fake' ? new FakeLlm({ firstTokenMs: config.fake.llmFirstTokenMs }) : new LocalResponder({ embedder });
  return { stt, tts, llm, embedder, vectors: new PostgresVectorStore(d.db) };
}
