import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { wavFileToMulaw8k } from '../../src/cli/call-report';

/**
 * espeak-ng voice whose speech the offline STT (Moonshine base, through the 8 kHz mu-law path) transcribes reliably
 * for the outbound phrases; measured 2026-12-02: en-us+m3 at 150 wpm → "Please stop calling me." / "Call me back
 * tomorrow at 3", where `en-us` lost "back" ("tomorrow. Free.") and `en` lost the callback phrase entirely.
 */
export const CALLEE_VOICE = 'en-us+m3';

/**
 * `text` spoken by espeak-ng (`voice`, 150 wpm) into `<dir>/<name>.wav`, converted by sox to 8 kHz mono 16-bit and
 * followed by 0.6 s of silence (the end of a turn), returned as 8 kHz mu-law bytes.
 * @throws Error when espeak-ng or sox is missing or fails (scripts/bootstrap.sh installs both).
 */
export function spokenMulaw(dir: string, name: string, text: string, voice = CALLEE_VOICE): Uint8Array {
  const raw = path.join(dir, `${name}-espeak.wav`);
  const out = path.join(dir, `${name}.wav`);
  execFileSync('espeak-ng', ['-v', voice, '-s', '150', '-w', raw, text]);
  execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', out, 'pad', '0', '0.6']);
  return wavFileToMulaw8k(out);
}

/**
 * A voicemail greeting as an answering machine plays it (issue 11 "Tests and figures"): espeak-ng says "Hi, you've
 * reached Sam. Please leave a message after the tone.", then 0.3 s of silence and a 1 kHz beep of 0.5 s (sox
 * `synth sine 1000`), 8 kHz mono; written to `<dir>/voicemail-greeting.wav` and returned as 8 kHz mu-law bytes.
 * @throws Error when espeak-ng or sox is missing or fails.
 */
export function voicemailGreetingMulaw(dir: string): Uint8Array {
  const speech = path.join(dir, 'vm-speech.wav');
  const speech8k = path.join(dir, 'vm-speech-8k.wav');
  const beep = path.join(dir, 'vm-beep.wav');
  const out = path.join(dir, 'voicemail-greeting.wav');
  execFileSync('espeak-ng', ['-v', CALLEE_VOICE, '-s', '150', '-w', speech, "Hi, you've reached Sam. Please leave a message after the tone."]);
  execFileSync('sox', [speech, '-r', '8000', '-c', '1', '-b', '16', speech8k, 'pad', '0', '0.3']);
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', beep, 'synth', '0.5', 'sine', '1000', 'vol', '0.5']);
  execFileSync('sox', [speech8k, beep, out]);
  return wavFileToMulaw8k(out);
}
