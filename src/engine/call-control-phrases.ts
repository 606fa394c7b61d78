/** Lines the engine says for call control, per ISO 639-1 language (English is the fallback). */
export const CALL_CONTROL_PHRASES: Record<'oneMoment' | 'didNotCatch' | 'notUnderstood' | 'reprompt' | 'goodbyeSilence' | 'goodbye' | 'maxDuration' | 'handoff' | 'noHandoff' | 'unsupportedLanguage' | 'optOut' | 'recordingNotice' | 'csatPrompt' | 'csatThanks', Record<string, string>> = {
  oneMoment: {
    en: 'One moment, please.',
    es: 'Un momento, por favor.',
    fr: 'Un instant, s\'il vous plaît.',
    de: 'Einen Moment, bitte.',
  },
  didNotCatch: {
    en: "Sorry, I didn't catch that. Could you say it again?",
    es: 'Perdone, no le he entendido. ¿Puede repetirlo?',
    fr: "Pardon, je n'ai pas compris. Pouvez-vous répéter ?",
    de: 'Entschuldigung, das habe ich nicht verstanden. Können Sie das wiederholen?',
  },
  /** The STT's confidence says the caller was not understood (another language, unintelligible): offer a person (the
   * words are TRANSFER_WORD of phrases.ts, which transfer after this offer). */
  notUnderstood: {
    en: "I'm sorry, I couldn't understand you. I can connect you with a person: say 'agent', or press 0.",
    es: 'Lo siento, no le he entendido. Puedo pasarle con una persona: diga "agente" o pulse 0.',
    fr: 'Désolé, je ne vous ai pas compris. Je peux vous passer un conseiller : dites « conseiller » ou appuyez sur 0.',
    de: 'Entschuldigung, ich habe Sie nicht verstanden. Ich kann Sie mit einem Mitarbeiter verbinden: sagen Sie „Mitarbeiter" oder drücken Sie die 0.',
  },
  reprompt: {
    en: 'Are you still there? How can I help you?',
    es: '¿Sigue ahí? ¿En qué puedo ayudarle?',
    fr: 'Êtes-vous toujours là ? Comment puis-je vous aider ?',
    de: 'Sind Sie noch da? Wie kann ich Ihnen helfen?',
  },
  goodbyeSilence: {
    en: "I haven't heard anything, so I'll end the call now. Please call again anytime. Goodbye.",
    es: 'No le escucho, así que voy a terminar la llamada. Llame cuando quiera. Adiós.',
    fr: "Je ne vous entends pas, je vais donc raccrocher. N'hésitez pas à rappeler. Au revoir.",
    de: 'Ich höre nichts, daher beende ich jetzt das Gespräch. Rufen Sie gern wieder an. Auf Wiederhören.',
  },
  goodbye: {
    en: 'Thank you for calling. Goodbye.',
    es: 'Gracias por llamar. Adiós.',
    fr: "Merci de votre appel. Au revoir.",
    de: 'Vielen Dank für Ihren Anruf. Auf Wiederhören.',
  },
  maxDuration: {
    en: "We've reached the time limit for this call. Please call again if you need more help. Goodbye.",
    es: 'Hemos llegado al límite de tiempo de esta llamada. Vuelva a llamar si necesita más ayuda. Adiós.',
    fr: "Nous avons atteint la durée maximale de cet appel. Rappelez-nous si vous avez besoin d'aide. Au revoir.",
    de: 'Die maximale Gesprächsdauer ist erreicht. Rufen Sie gern wieder an. Auf Wiederhören.',
  },
  handoff: {
    en: "I'm transferring you to a member of our team now. Please hold.",
    es: 'Le paso ahora con una persona de nuestro equipo. No cuelgue, por favor.',
    fr: "Je vous transfère à un membre de notre équipe. Veuillez patienter.",
    de: 'Ich verbinde Sie jetzt mit einem Mitarbeiter. Bitte bleiben Sie dran.',
  },
  noHandoff: {
    en: "I'm sorry, no one is available to take your call right now. I can keep helping you here.",
    es: 'Lo siento, ahora mismo no hay nadie disponible. Puedo seguir ayudándole yo.',
    fr: "Désolé, personne n'est disponible pour le moment. Je peux continuer à vous aider.",
    de: 'Leider ist gerade niemand erreichbar. Ich kann Ihnen aber weiterhelfen.',
  },
  /** The callee asked not to be called again: confirmed before the hang-up. */
  optOut: {
    en: "Understood. We won't call you again. Goodbye.",
    es: 'Entendido. No le volveremos a llamar. Adiós.',
    fr: 'Entendu. Nous ne vous rappellerons plus. Au revoir.',
    de: 'Verstanden. Wir rufen Sie nicht mehr an. Auf Wiederhören.',
  },
  unsupportedLanguage: {
    en: "I'm sorry, I can only help you in English.",
    es: 'Lo siento, solo puedo ayudarle en español.',
    fr: "Désolé, je ne peux vous aider qu'en français.",
    de: 'Es tut mir leid, ich kann Ihnen nur auf Deutsch helfen.',
  },
  /** The agent's recording notice (`recordingNotice.enabled`) when it has no line of its own. */
  recordingNotice: {
    en: 'This call may be recorded.',
    es: 'Esta llamada puede ser grabada.',
    fr: 'Cet appel peut être enregistré.',
    de: 'Dieses Gespräch kann aufgezeichnet werden.',
  },
  /** The end-of-call CSAT survey (agent `csatSurvey.enabled`) when the agent has no prompt of its own. */
  csatPrompt: {
    en: 'Before you go: on a scale of 1 to 5, how satisfied were you with this call? Press a number from 1 to 5.',
    es: 'Antes de colgar: del 1 al 5, ¿qué tan satisfecho quedó con esta llamada? Pulse un número del 1 al 5.',
    fr: "Avant de raccrocher : sur une échelle de 1 à 5, êtes-vous satisfait de cet appel ? Appuyez sur un chiffre de 1 à 5.",
    de: 'Bevor Sie auflegen: Wie zufrieden waren Sie auf einer Skala von 1 bis 5 mit diesem Gespräch? Drücken Sie eine Zahl von 1 bis 5.',
  },
  /** Said after the caller gave a CSAT score, before the hang-up. */
  csatThanks: {
    en: 'Thank you.',
    es: 'Gracias.',
    fr: 'Merci.',
    de: 'Danke.',
  },
};

/** Kinds of {@link CALL_CONTROL_PHRASES}. */
export type PhraseKind = keyof typeof CALL_CONTROL_PHRASES;

/** The phrase `kind` in `language`, else in English. */
export function phrase(kind: keyof typeof CALL_CONTROL_PHRASES, language: string): string {
  const t = CALL_CONTROL_PHRASES[kind];
  return t[language] ?? t.en;
}
