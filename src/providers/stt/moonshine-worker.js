'use strict';
/**
 * Moonshine decoding thread (worker_threads), started by moonshine-pool.ts: one onnxruntime session pair (encoder +
 * merged decoder) on one intra-op thread, one utterance at a time. Plain CommonJS for the same reason as
 * src/engine/vad-worker.js: Node loads it as it is under tsx, Jest and plain node.
 *
 * Model I/O (../shared/PROTOCOLS.md, "Moonshine offline ASR"):
 * - encoder `input_values` float32 [1, N] (16 kHz mono in [-1, 1], any length) → `last_hidden_state`.
 * - decoder (merged, KV cache): `input_ids` int64 [1, 1], `encoder_hidden_states`, `use_cache_branch` bool [1] (false
 *   on the first step), `past_key_values.{l}.{decoder|encoder}.{key|value}` float32 [1, heads, seq, headDim] (seq 0
 *   on the first step) → `logits` [1, 1, vocab] and `present.*`. The decoder presents are fed back every step; the
 *   encoder ones are taken from the first step only (later steps return them unchanged or empty).
 * - Greedy decoding from the start token (1) until end-of-text (2) or `maxTokens`.
 *
 * workerData: { ortPath, encoderPath, decoderPath, layers, heads, headDim, ctl } — `ctl` a SharedArrayBuffer of three
 *   int32: [0] native calls in progress, [1] stop flag (process exit), [2] id of a request to abandon (checked before
 *   every decode step).
 * Messages in:  { type: 'decode', id, samples: Float32Array (16 kHz), maxTokens }
 *               → { type: 'result', id, text, tokens: number[], logprobs: number[] (natural log, per token), aborted:
                   boolean, encodeMs, decodeMs } (text: the tokens below 32000, detokenized with llama-tokenizer-js)
 *                 or { type: 'error', id, message }.
 *               { type: 'close' } → exits once the decode in progress (if any) has returned.
 * Messages out, once: { type: 'ready' } when both sessions are loaded, or { type: 'load_error', message }.
 */
const { parentPort, workerData } = require('worker_threads');

const { ortPath, encoderPath, decoderPath, layers, heads, headDim } = workerData;
const ctl = new Int32Array(workerData.ctl);
const ABANDON = 2;
const START_TOKEN = 1;
const END_TOKEN = 2;
const ort = require(ortPath);
const { nativeCalls } = require('../ort-native-call');
/** Token ids at or above this are Moonshine's special tokens; the rest are the Llama SentencePiece vocabulary. */
const FIRST_SPECIAL = 32000;
// ESM-only package: imported here, in plain Node, so neither tsx nor Jest has to load it.
const tokenizerP = import('llama-tokenizer-js').then((m) => m.default);

/** Runs a native ort call counted in ctl, unless the process is exiting (see ort-native-call.js). */
const native = nativeCalls(ctl, 'Moonshine worker');

/** Loading the models, or decodes queued/running: the worker exits on 'close' only when neither. */
let busy = false;
let pending = 0;
let closing = false;
const exitIfIdle = () => {
  if (closing && !busy) process.exit(0);
};

const OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
busy = true;
const sessionsP = native(() => Promise.all([ort.InferenceSession.create(encoderPath, OPTIONS), ort.InferenceSession.create(decoderPath, OPTIONS)]));
/**
 * One throw-away decode before 'ready': onnxruntime's first runs allocate and plan (measured: the first utterance
 * took 780 ms, the next ones 210–240 ms for the same 3 s of audio). 2 s of quiet deterministic noise, 8 tokens.
 */
async function prime() {
  let seed = 1;
  const samples = Float32Array.from({ length: 32000 }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 0.01);
  await decodeSamples(samples, 8, -1);
}

Promise.all([sessionsP, tokenizerP]).then(prime).then(
  () => parentPort.postMessage({ type: 'ready' }),
  (err) => parentPort.postMessage({ type: 'load_error', message: String((err && err.message) || err) }),
).finally(() => {
  busy = pending > 0;
  exitIfIdle();
});

const emptyKv = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);

/** The argmax of `logits` and its log-softmax (natural log). */
function pick(logits) {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) (max = logits[i]), (best = i);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return { token: best, logprob: -Math.log(sum) };
}

/**
 * Greedy decoding of 16 kHz `samples`: at most `maxTokens` tokens; stops early when the host abandons request `id`.
 * @returns { text, tokens, logprobs, aborted, encodeMs, decodeMs }
 */
async function decodeSamples(samples, maxTokens, id) {
  const [encoder, decoder] = await sessionsP;
  const t0 = performance.now();
  const enc = await native(() => encoder.run({ input_values: new ort.Tensor('float32', samples, [1, samples.length]) }));
  const hidden = enc.last_hidden_state;
  const t1 = performance.now();
  const tokens = [];
  const logprobs = [];
  const past = {};
  for (let l = 0; l < layers; l++) {
    for (const part of ['decoder', 'encoder']) for (const kv of ['key', 'value']) past[`past_key_values.${l}.${part}.${kv}`] = emptyKv;
  }
  let next = START_TOKEN;
  let aborted = false;
  for (let step = 0; step < maxTokens; step++) {
    if (Atomics.load(ctl, ABANDON) === id) {
      aborted = true;
      break;
    }
    const out = await native(() =>
      decoder.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(next)]), [1, 1]),
        encoder_hidden_states: hidden,
        use_cache_branch: new ort.Tensor('bool', Uint8Array.from([step > 0 ? 1 : 0]), [1]),
        ...past,
      }),
    );
    for (let l = 0; l < layers; l++) {
      for (const kv of ['key', 'value']) {
        past[`past_key_values.${l}.decoder.${kv}`] = out[`present.${l}.decoder.${kv}`];
        if (step === 0) past[`past_key_values.${l}.encoder.${kv}`] = out[`present.${l}.encoder.${kv}`];
      }
    }
    const { token, logprob } = pick(out.logits.data);
    if (token === END_TOKEN) break;
    tokens.push(token);
    logprobs.push(logprob);
    next = token;
  }
  const tokenizer = await tokenizerP;
  const text = tokenizer.decode(tokens.filter((t) => t < FIRST_SPECIAL), false, false).trim();
  return { text, tokens, logprobs, aborted, encodeMs: t1 - t0, decodeMs: performance.now() - t1 };
}

async function decode(msg) {
  const r = await decodeSamples(msg.samples, msg.maxTokens, msg.id);
  parentPort.postMessage({ type: 'result', id: msg.id, ...r });
}

/** Decodes run one after the other: the host may hand over the next request while an abandoned one finishes. */
let chain = Promise.resolve();
parentPort.on('message', (msg) => {
  if (msg && msg.type === 'decode') {
    busy = true;
    pending++;
    chain = chain
      .then(() => decode(msg))
      .catch((err) => parentPort.postMessage({ type: 'error', id: msg.id, message: String((err && err.message) || err) }))
      .finally(() => {
        busy = --pending > 0;
        exitIfIdle();
      });
  } else if (msg && msg.type === 'close') {
    closing = true;
    exitIfIdle();
  } else {
    throw new Error(`Moonshine worker: unknown message ${JSON.stringify(msg && msg.type)}`);
  }
});
