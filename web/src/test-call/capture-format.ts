/** Shared by the capture AudioWorklet and the page side (the worklet module itself cannot be imported by the page). */

/** Name the mu-law capture AudioWorkletProcessor is registered under. */
export const CAPTURE_PROCESSOR = 'mulaw-capture';
/** One 20 ms frame of 8 kHz mu-law (bytes), the frame size Twilio Media Streams sends. */
export const FRAME_BYTES = 160;
