/** Little-endian 16-bit samples from `data`, carrying an odd trailing byte over to the next chunk. */
export function pcm16Samples(data: Uint8Array, carry: number | null): { samples: Int16Array; odd: number | null } {
  const bytes = carry === null ? data : Uint8Array.from([carry, ...data]);
  const n = bytes.length >> 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = view.getInt16(i * 2, true);
  return { samples, odd: bytes.length % 2 ? bytes[bytes.length - 1] : null };
}
