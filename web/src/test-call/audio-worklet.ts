/**
 * AudioWorkletProcessor `mulaw-capture` (CAPTURE_PROCESSOR) (load this module with `audioWorklet.addModule`, then
 * `new AudioWorkletNode(ctx, CAPTURE_PROCESSOR)`): takes the microphone (first input, first channel, Float32 at the
 * context's `sampleRate`), downsamples it to 8000 Hz, encodes mu-law and posts 20 ms frames — exactly 160 bytes,
 * a `Uint8Array` transferred to the main thread — as Twilio Media Streams sends a caller's audio.
 */
import { Downsampler } from './downsample';
import { float32ToMulawSample } from './mulaw';
import { CAPTURE_PROCESSOR, FRAME_BYTES } from './capture-format';

// The AudioWorkletGlobalScope (Web Audio API §1.32), declared here: TypeScript ships no lib for it.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessor): void;

class MulawCaptureProcessor extends AudioWorkletProcessor {
  private readonly down = new Downsampler(sampleRate);
  private frame = new Uint8Array(FRAME_BYTES);
  private filled = 0;

  process(inputs: Float32Array[][]): boolean {
    const mono = inputs[0]?.[0];
    if (mono && mono.length) {
      const samples = this.down.push(mono);
      for (let i = 0; i < samples.length; i++) {
        this.frame[this.filled++] = float32ToMulawSample(samples[i]);
        if (this.filled === FRAME_BYTES) {
          this.port.postMessage(this.frame, [this.frame.buffer]);
          this.frame = new Uint8Array(FRAME_BYTES);
          this.filled = 0;
        }
      }
    }
    return true; // keep running while the mic is connected
  }
}

registerProcessor(CAPTURE_PROCESSOR, MulawCaptureProcessor);
