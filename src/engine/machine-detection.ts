import { containsPhrase } from '../domain/call-phrases';

/**
 * Phrases of voicemail greetings, carrier messages and call screeners (Google Call Screen, iOS Live Voicemail),
 * en/es/fr/de. A backup of Twilio's AMD: a callee's first utterance containing one is treated as a machine.
 */
export const MACHINE_PHRASES: Readonly<Record<'en' | 'es' | 'fr' | 'de', readonly string[]>> = {
  en: [
    'leave a message', 'leave your message', 'after the tone', 'after the beep', 'at the tone', 'please record your message',
    'record your message', 'is not available', 'isnt available', 'cannot take your call', 'cant take your call', 'can not take your call',
    'unable to take your call', 'the person you are calling', 'the person youre calling', 'the number you have dialed', 'the number you dialed',
    'the subscriber you have dialed', 'voice mailbox', 'voicemail box', 'mailbox is full', 'forwarded to voicemail', 'forwarded to an automatic voice message system', 'using a screening service',
    'screening service', 'call screening', 'state your name and the reason for your call', 'say your name and why youre calling',
    'reached the voicemail', 'you have reached',
  ],
  es: [
    'deje su mensaje', 'deje un mensaje', 'despues del tono', 'despues de la senal', 'no esta disponible', 'no puede atender',
    'buzon de voz', 'el numero que usted marco', 'el numero marcado', 'la persona a la que llama', 'grabe su mensaje',
  ],
  fr: [
    'laissez un message', 'laissez votre message', 'apres le bip', 'apres le signal sonore', 'nest pas disponible', 'est indisponible',
    'messagerie vocale', 'repondeur', 'le numero que vous avez compose', 'votre correspondant', 'la personne que vous appelez',
  ],
  de: [
    'hinterlassen sie eine nachricht', 'hinterlassen sie bitte eine nachricht', 'nach dem signalton', 'nach dem piepton', 'nicht erreichbar',
    'nicht verfugbar', 'mailbox von', 'ist die mailbox', 'anrufbeantworter', 'die gewahlte rufnummer', 'der gewunschte gesprachspartner', 'die person die sie anrufen',
  ],
};

const ALL = Object.values(MACHINE_PHRASES).flat();

/** The machine phrase `text` contains (any of the four languages: a greeting need not be in the call's language), or null. */
export function machinePhraseIn(text: string): string | null {
  return containsPhrase(text, ALL);
}
