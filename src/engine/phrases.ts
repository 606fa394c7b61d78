/** Said when a reply fails before any audio was sent (per ISO 639-1 language). */
export const APOLOGY: Record<string, string> = {
  en: "Sorry, I'm having trouble answering right now. Could you say that again?",
  es: 'Lo siento, tengo problemas para responder ahora mismo. ¿Puede repetirlo?',
  fr: "Désolé, j'ai du mal à répondre pour le moment. Pouvez-vous répéter ?",
  de: 'Entschuldigung, ich habe gerade Probleme zu antworten. Können Sie das wiederholen?',
};

/** The word the outage apology asks callers to say to reach a person (per ISO 639-1 language); treat it as a transfer request. */
export const TRANSFER_WORD: Record<string, string> = {
  en: 'agent',
  es: 'agente',
  fr: 'conseiller',
  de: 'Mitarbeiter',
};

/**
 * Played from cached audio (src/engine/apology-cache.ts) when every provider of a turn failed: apologises and
 * offers a transfer by DTMF 0 or by saying {@link TRANSFER_WORD}. Kept short (≤ 6 s at espeak-ng's 170 wpm).
 */
export const OUTAGE_APOLOGY: Record<string, string> = {
  en: `Sorry, I'm having trouble right now. Press 0 or say '${TRANSFER_WORD.en}' to reach a person.`,
  es: `Lo siento, tengo un problema. Pulse 0 o diga '${TRANSFER_WORD.es}' para hablar con una persona.`,
  fr: `Désolé, j'ai un problème. Appuyez sur 0 ou dites « ${TRANSFER_WORD.fr} » pour parler à quelqu'un.`,
  de: `Leider gibt es ein Problem. Drücken Sie 0 oder sagen Sie '${TRANSFER_WORD.de}', um verbunden zu werden.`,
};
