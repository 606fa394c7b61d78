/** PCM16 mono audio inside the engine. `samples` are signed 16-bit; `sampleRate` in Hz (8000 on a phone line). */
export interface Pcm {
  samples: Int16Array;
  sampleRate: number;
}
