#!/usr/bin/env node
// `npm run build`: the production build in dist/.
//   1. removes dist/ (no output of a deleted source survives),
//   2. compiles src/, workers/, migrations/ and twiml/ with `tsc -p tsconfig.build.json` (CommonJS, type-checked),
//      keeping the source layout: dist/src/main.js, dist/workers/main.js, …,
//   3. copies every non-TypeScript file of those trees the runtime loads from __dirname (the worker threads'
//      .js files, JSON such as the Moonshine sha256 pins) to the same relative path,
//   4. writes dist/main.js, the production entry (`npm start`, the Docker image), which loads dist/src/main.js,
//   5. builds the dashboard (web/, Vite, web/vite.config.mts) into dist/web/, which the server serves at `/`
//      (src/http/routes/web-ui.ts); with type checking (`tsc -p web`) unless --no-check.
// models/ is not copied: it stays at the package root, where the Moonshine provider looks for it (the nearest
// directory holding package.json, from src/ and from dist/src/ alike); the Silero model ships in node_modules.
//
// Usage: node scripts/build.mjs [--if-stale] [--no-check]
//   --if-stale: do nothing when dist/.build-stamp is newer than every input (the sources, web/ included,
//   tsconfig*.json, package-lock.json, this script).
//   --no-check: emit without type checking (`tsc --noCheck`; same output, about 3x less CPU). For the bootstrap and
//   the npm start test only, since `npm test` type-checks separately; `npm run build` and the image always check.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const TREES = ['src', 'workers', 'migrations', 'twiml'];
const STAMP = join(DIST, '.build-stamp');
/** Inputs that are not compiled by tsc -p tsconfig.build.json but by Vite (web/: sources, index.html, configs). */
const WEB = join(ROOT, 'web');
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.mjs'];

const log = (m) => process.stderr.write(`[build] ${m}\n`);

/** Every file under `dir` (absolute paths). */
function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Newest mtime (ms) of the build's inputs. */
function newestInput() {
  const files = [...TREES.flatMap((t) => walk(join(ROOT, t))), ...walk(WEB), ...INPUT_FILES.map((f) => join(ROOT, f))];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

function main() {
  if (process.argv.includes('--if-stale') && existsSync(STAMP) && statSync(STAMP).mtimeMs > newestInput()) return;
  const started = Date.now();
  rmSync(DIST, { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const noCheck = process.argv.includes('--no-check') ? ['--noCheck'] : [];
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), ...noCheck], { cwd: ROOT, stdio: 'inherit' });
  let assets = 0;
  for (const tree of TREES) {
    for (const file of walk(join(ROOT, tree))) {
      if (file.endsWith('.ts')) continue;
      const to = join(DIST, relative(ROOT, file));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(file, to);
      assets++;
    }
  }
  writeFileSync(
    join(DIST, 'main.js'),
    "'use strict';\n// Production entry (`npm start`, the Docker image): the compiled composition root, in the source layout.\nrequire('./src/main.js');\n",
  );
  if (!noCheck.length) execFileSync(process.execPath, [tsc, '--noEmit', '-p', join(WEB, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', join(WEB, 'vite.config.mts'), '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  // Dated at the start: a source saved during the build leaves dist/ stale.
  writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
  utimesSync(STAMP, started / 1000, started / 1000);
  log(`dist/ and dist/web/ built${noCheck.length ? ' (no type check)' : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s (${assets} assets copied)`);
}

try {
  main();
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
