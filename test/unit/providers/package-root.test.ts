import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MOONSHINE_DIR, packageRoot } from '../../../src/providers/stt/moonshine';

describe('the Moonshine weights are found from the package root, in the source tree and in dist/', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pkgroot-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('from src/ (tsx, Jest) the default is <repo>/models/moonshine', () => {
    expect(DEFAULT_MOONSHINE_DIR).toBe(path.resolve(__dirname, '../../../models/moonshine'));
  });

  it('from dist/src/providers/stt (npm run build, the Docker image) the root is the directory holding package.json', () => {
    const compiled = path.join(dir, 'app', 'dist', 'src', 'providers', 'stt');
    mkdirSync(compiled, { recursive: true });
    writeFileSync(path.join(dir, 'app', 'package.json'), '{}');
    expect(packageRoot(compiled)).toBe(path.join(dir, 'app'));
  });

  it('without any package.json above, the directory itself', () => {
    const lone = path.join(dir, 'lone', 'a', 'b');
    mkdirSync(lone, { recursive: true });
    const ancestors: string[] = [];
    for (let d = dir; ancestors.at(-1) !== d; d = path.dirname(d)) ancestors.push(d);
    const above = ancestors.find((d) => existsSync(path.join(d, 'package.json')));
    expect(packageRoot(lone)).toBe(above ?? lone); // tmpdir() has no package.json above it on a normal machine
  });
});
