/** Said when a reply fails before any audio was sent (per ISO 639-1 language). */
export const APOLOGY: Record<string, string> = {
  en: "Sorry, I'm having trouble answering right now. Could you say that again?",
  es: 'Lo siento, tengo problemas para responder ahora mismo. ¿Puede repetirlo?',
  fr: "Désolé, j'ai du mal à répondre pour le moment. Pouvez-vous répéter ?",
  de: 'Entschuldigung, ich habe gerade Probleme zu antworten. Können Sie das wiederholen?',
};
