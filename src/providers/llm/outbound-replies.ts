import type { ChatRequest } from '../types';
import { optOutPhraseIn } from '../../domain/call-phrases';
import { readCallbackTime } from '../../domain/callback-time';

/** What the offline responder does on an outbound-call turn: a line to say and/or a tool call, or nothing special. */
export interface OutboundReply {
  text: string;
  toolCall?: { id: string; name: 'opt_out' | 'schedule_callback'; arguments: string };
}

const LINES: Record<'optOut' | 'callbackBooked' | 'callbackWhatTime', Record<string, string>> = {
  optOut: {
    en: "I'm sorry for the trouble. We won't call you again. Goodbye.",
    es: 'Disculpe las molestias. No le volveremos a llamar. Adiós.',
    fr: 'Désolé pour le dérangement. Nous ne vous rappellerons plus. Au revoir.',
    de: 'Entschuldigen Sie die Störung. Wir rufen Sie nicht mehr an. Auf Wiederhören.',
  },
  callbackBooked: {
    en: "Of course, I'll call you back on {when}.",
    es: 'Por supuesto, le volveré a llamar el {when}.',
    fr: 'Bien sûr, je vous rappellerai le {when}.',
    de: 'Gern, ich rufe Sie am {when} zurück.',
  },
  callbackWhatTime: {
    en: 'Of course. What time that day suits you best?',
    es: 'Por supuesto. ¿A qué hora le viene mejor ese día?',
    fr: 'Bien sûr. À quelle heure ce jour-là vous conviendrait le mieux ?',
    de: 'Gern. Um wie viel Uhr passt es Ihnen an dem Tag am besten?',
  },
};

/** A request to be called back, in en/es/fr/de (the time itself is read by chrono-node). */
const CALLBACK_REQUEST = /\b(call|ring|phone) me (back|again|later)\b|\bcall (me )?back\b|\bvuelv\p{L}* a llamar|ll[aá]m\p{L}*me (m[aá]s tarde|ma[nñ]ana|el|otro)|\brappel\p{L}*[- ]moi\b|\bme rappeler\b|\bzur[uü]ckrufen\b|\brufen sie mich\b.*\b(zur[uü]ck|an)\b/iu;

const BOOKED = /^Callback booked for (.+?) \(/;

/**
 * The offline responder's outbound behaviour (like a tool-using LLM, only for the tools `req` offers):
 * - the callee asks not to be called again (the built-in opt-out phrases) → a polite line + `opt_out`;
 * - the callee asks to be called back at a time chrono-node can read → `schedule_callback { when: <their words> }`;
 *   a day without a time of day ("call me back on Saturday") → it asks what time suits them, and the answer ("at
 *   three") is booked together with that day;
 * - right after a booked callback (the tool's result) → the confirmation with the booked local time.
 * @returns null when none applies (the ordinary intent answer follows).
 */
export function outboundReply(req: ChatRequest, question: string): OutboundReply | null {
  const offered = new Set((req.tools ?? []).map((t) => t.name));
  const last = req.messages.at(-1);
  const line = (k: keyof typeof LINES) => LINES[k][req.language] ?? LINES[k].en;
  if (last?.role === 'tool') {
    const booked = BOOKED.exec(last.content);
    return booked ? { text: line('callbackBooked').replace('{when}', booked[1]) } : null;
  }
  if (offered.has('opt_out') && optOutPhraseIn(question)) return { text: line('optOut'), toolCall: { id: 'local_opt_out', name: 'opt_out', arguments: '{}' } };
  if (!offered.has('schedule_callback')) return null;
  const when = callbackWords(req, question);
  if (!when) return null;
  if (!when.timeOfDay) return { text: line('callbackWhatTime') };
  return { text: '', toolCall: { id: 'local_callback', name: 'schedule_callback', arguments: JSON.stringify({ when: when.words }) } };
}

/**
 * The callee's words that ask for a callback, read as a time (the zone does not matter for whether they hold one):
 * the question itself when it is a callback request with a readable day or time, or, when the callee's previous turn
 * was such a request with a day but no time (the agent asked what time), that request and this answer together ("call
 * me again on Saturday" … "at three in the afternoon"). @returns null when neither holds a time.
 */
function callbackWords(req: ChatRequest, question: string): { words: string; timeOfDay: boolean } | null {
  const read = (words: string) => readCallbackTime(words, { now: new Date(), timeZone: 'UTC', language: req.language });
  if (CALLBACK_REQUEST.test(question)) {
    const r = read(question);
    return r ? { words: question, timeOfDay: r.timeOfDay } : null;
  }
  const users = req.messages.filter((m) => m.role === 'user');
  const earlier = users.at(-2)?.content ?? '';
  if (users.at(-1)?.content !== question || !CALLBACK_REQUEST.test(earlier) || read(earlier)?.timeOfDay !== false) return null;
  const words = `${earlier} ${question}`;
  return read(words)?.timeOfDay ? { words, timeOfDay: true } : null;
}
