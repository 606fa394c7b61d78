#!/usr/bin/env node
// Fetches the Moonshine English ASR weights (MIT, Useful Sensors) for the offline STT into models/moonshine/.
//
// The weights ship inside the npm tarball @usefulsensors/moonshine-js@0.1.16 (the last version with English base),
// whose own dependencies (transformers.js, onnxruntime-web, a browser VAD; ~600 MB) we do not use. So the tarball is
// not a dependency: `npm pack` downloads that exact version from the configured registry into a temp dir, only the
// four ONNX files are extracted, and each must match the sha256 pinned below (../shared/PROTOCOLS.md) before it is
// moved into place. Nothing else of the package is kept; `npm ci` and `npm ls` never see it.
//
// Usage: node scripts/fetch-models.mjs [--check]   (`npm run fetch-models`; the bootstrap and the Dockerfile run it)
//   --check: verify what is there (exit 1 naming what is missing or corrupt), fetch nothing.
// Idempotent: files already present with the right sha256 are not fetched again.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The package and the sha256 of each models/moonshine/<size>/<file> (shared with the STT provider's start-up check). */
const PINS = JSON.parse(readFileSync(join(ROOT, 'src/providers/stt/moonshine-models.json'), 'utf8'));
const PACKAGE = PINS.package;
const FILES = PINS.files;
const DIR = process.env.MOONSHINE_MODEL_DIR ? resolve(process.env.MOONSHINE_MODEL_DIR) : join(ROOT, 'models', 'moonshine');

const log = (m) => process.stderr.write(`[fetch-models] ${m}\n`);

function sha256(file) {
  return new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(file).on('error', fail).on('data', (d) => h.update(d)).on('end', () => ok(h.digest('hex')));
  });
}

/** Files missing or whose sha256 differs (each with the reason). */
async function problems() {
  const out = [];
  for (const [rel, want] of Object.entries(FILES)) {
    const file = join(DIR, rel);
    if (!existsSync(file)) out.push({ rel, why: 'missing' });
    else if ((await sha256(file)) !== want) out.push({ rel, why: `sha256 mismatch (${statSync(file).size} bytes)` });
  }
  return out;
}

async function main() {
  const check = process.argv.includes('--check');
  const bad = await problems();
  if (!bad.length) return;
  if (check) {
    for (const b of bad) log(`${join(DIR, b.rel)}: ${b.why}`);
    log('run `npm run fetch-models` to fetch them');
    process.exit(1);
  }
  // Beside the destination, so the final rename stays on one filesystem.
  mkdirSync(DIR, { recursive: true });
  const tmp = mkdtempSync(join(DIR, '.fetch-'));
  try {
    log(`downloading ${PACKAGE} (npm pack, ~67 MB) for ${bad.map((b) => b.rel).join(', ')}`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const tgz = execFileSync(npm, ['pack', PACKAGE, '--pack-destination', tmp, '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop();
    const members = bad.map((b) => `package/dist/model/${b.rel.replace('/', '/quantized/')}`);
    execFileSync('tar', ['-xzf', join(tmp, tgz), '-C', tmp, ...members], { stdio: 'inherit' });
    for (const b of bad) {
      const got = join(tmp, `package/dist/model/${b.rel.replace('/', '/quantized/')}`);
      const sum = await sha256(got);
      if (sum !== FILES[b.rel]) throw new Error(`${PACKAGE} ${b.rel}: sha256 ${sum}, expected ${FILES[b.rel]}: refusing it`);
      mkdirSync(dirname(join(DIR, b.rel)), { recursive: true });
      renameSync(got, join(DIR, b.rel));
      log(`${join(DIR, b.rel)}: ok`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
