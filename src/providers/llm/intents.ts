/**
 * Per-language cues and example phrases for the offline intent classifier ({@link ./local-responder}), and the
 * reply strings of the local responder. Add a language by adding an entry to each table; intents an agent defines
 * that have no entry here are matched by their own name (`billing_question` → "billing question").
 */

export interface IntentLexicon {
  /** Words or short phrases (matched on stemmed tokens); weight 0..1 is the confidence a match alone gives. */
  cues: Array<[phrase: string, weight: number]>;
  /** Typical caller utterances, compared by embedding similarity. */
  examples: string[];
}

export const INTENT_LEXICON: Record<string, Record<string, IntentLexicon>> = {
  en: {
    hours: {
      cues: [
        ['hours', 0.9], ['opening', 0.85], ['open', 0.8], ['close', 0.75], ['closing', 0.8], ['when are you', 0.6],
        ['what time', 0.6], ['weekend', 0.55], ['saturday', 0.55], ['sunday', 0.55], ['holiday', 0.5], ['today', 0.3], ['tomorrow', 0.3],
      ],
      examples: [
        'when are you open', 'what are your opening hours', 'what time do you close', 'are you open on saturday',
        'are you open on sunday', 'what are your business hours', 'what time do you open tomorrow', 'are you open today',
      ],
    },
    order_status: {
      cues: [
        ['order', 0.75], ['package', 0.8], ['parcel', 0.8], ['delivery', 0.8], ['deliver', 0.75], ['shipping', 0.7], ['ship', 0.7],
        ['track', 0.85], ['tracking', 0.85], ['arrive', 0.7], ['where is my', 0.7], ['shipment', 0.8], ['status', 0.55], ['not come', 0.5],
      ],
      examples: [
        'where is my order', 'i want to track my order', 'has my order shipped', 'my package has not arrived yet',
        'what is the status of my order', 'when will my delivery arrive', 'i have not received my parcel', 'can you check my order',
      ],
    },
    refund: {
      cues: [
        ['refund', 0.95], ['money back', 0.95], ['return', 0.8], ['reimburse', 0.85], ['reimbursement', 0.85], ['send it back', 0.75],
        ['charged', 0.55], ['overcharged', 0.7], ['broken', 0.5], ['damaged', 0.55], ['faulty', 0.55], ['exchange', 0.6],
      ],
      examples: [
        'i want my money back', 'i would like a refund', 'how do i return an item', 'can i get a refund',
        'what is your refund policy', 'i want to return my purchase', 'the item arrived broken i want a refund', 'how long does a refund take',
      ],
    },
    human_handoff: {
      cues: [
        ['human', 0.95], ['person', 0.85], ['someone', 0.6], ['somebody', 0.6], ['agent', 0.85], ['representative', 0.95], ['operator', 0.9],
        ['real person', 0.95], ['speak to', 0.6], ['talk to', 0.6], ['transfer', 0.7], ['manager', 0.8], ['supervisor', 0.85],
      ],
      examples: [
        'can i speak to a human', 'i want to talk to a real person', 'put me through to an agent', 'let me talk to someone',
        'representative please', 'operator', 'can you transfer me to a person', 'i need to speak with a manager',
      ],
    },
    goodbye: {
      cues: [
        ['goodbye', 0.95], ['bye', 0.9], ['bye bye', 0.95], ['that is all', 0.8], ['thats all', 0.8], ['nothing else', 0.8], ['have a nice day', 0.8],
        ['have a good day', 0.8], ['thanks', 0.45], ['thank you', 0.45], ['hang up', 0.7], ['see you', 0.6], ['no thanks', 0.6],
      ],
      examples: [
        'thank you goodbye', 'thats all thanks bye', 'no that is all have a nice day', 'bye', 'nothing else thank you',
        'great thanks for your help bye', 'ok bye bye',
      ],
    },
  },
  // Spanish: accents are stripped by tokenize() ("mañana" → "manana"), so cues are written without them.
  es: {
    hours: {
      cues: [
        ['horario', 0.9], ['horarios', 0.9], ['abren', 0.85], ['abre', 0.8], ['abierto', 0.8], ['abiertos', 0.8], ['cierran', 0.8], ['cierra', 0.75],
        ['a que hora', 0.7], ['que hora', 0.6], ['sabado', 0.55], ['domingo', 0.55], ['festivo', 0.5], ['hoy', 0.3], ['manana', 0.3],
      ],
      examples: [
        'a que hora abren', 'cual es su horario', 'a que hora cierran', 'estan abiertos el sabado', 'abren los domingos',
        'cual es el horario de atencion', 'a que hora abren manana', 'estan abiertos hoy',
      ],
    },
    order_status: {
      cues: [
        ['pedido', 0.8], ['paquete', 0.8], ['envio', 0.75], ['entrega', 0.75], ['seguimiento', 0.85], ['rastrear', 0.85], ['donde esta mi', 0.7],
        ['no ha llegado', 0.7], ['llegado', 0.6], ['llega', 0.55], ['estado', 0.5],
      ],
      examples: [
        'donde esta mi pedido', 'quiero saber el estado de mi pedido', 'mi paquete no ha llegado', 'ya enviaron mi pedido',
        'cuando llega mi entrega', 'puede revisar mi pedido', 'como puedo rastrear mi paquete',
      ],
    },
    refund: {
      cues: [
        ['reembolso', 0.95], ['devolucion', 0.85], ['devolver', 0.8], ['mi dinero', 0.85], ['devuelvan el dinero', 0.95], ['cobrado', 0.55],
        ['roto', 0.5], ['danado', 0.55], ['defectuoso', 0.55], ['cambiar', 0.5],
      ],
      examples: [
        'quiero que me devuelvan el dinero', 'quiero un reembolso', 'como devuelvo un articulo', 'puedo pedir un reembolso',
        'cual es su politica de devoluciones', 'el articulo llego roto quiero un reembolso', 'cuanto tarda un reembolso',
      ],
    },
    human_handoff: {
      cues: [
        ['persona', 0.85], ['humano', 0.95], ['agente', 0.85], ['operador', 0.9], ['representante', 0.95], ['hablar con', 0.6], ['transferir', 0.7],
        ['encargado', 0.8], ['supervisor', 0.85],
      ],
      examples: [
        'quiero hablar con una persona', 'puedo hablar con un humano', 'paseme con un agente', 'quiero hablar con alguien',
        'un representante por favor', 'operador', 'necesito hablar con el encargado',
      ],
    },
    goodbye: {
      cues: [
        ['adios', 0.95], ['hasta luego', 0.9], ['chao', 0.9], ['eso es todo', 0.8], ['nada mas', 0.8], ['buen dia', 0.6], ['gracias', 0.45],
        ['colgar', 0.7],
      ],
      examples: ['gracias adios', 'eso es todo gracias', 'nada mas que tenga buen dia', 'adios', 'hasta luego', 'muchas gracias por su ayuda adios'],
    },
  },
};

/** Reply strings of the local responder, per ISO 639-1 language. */
export interface ResponderStrings {
  handoff: string;
  goodbye: string;
  /** Fallback when nothing matches; `{topics}` is replaced by the joined intent labels. */
  fallback: string;
  /** Fallback when the agent has no labelled intents. */
  fallbackGeneric: string;
  /** When the intent is known but no passage is relevant; `{topic}` is the intent's label. */
  clarify: string;
  /** Reply when the caller said nothing usable. */
  empty: string;
  /** Human labels of intents for the fallback, e.g. hours → "our opening hours". */
  labels: Record<string, string>;
  /** Joins a list: ("a", "b", "c") → "a, b or c". */
  join: (items: string[]) => string;
}

export const RESPONDER_STRINGS: Record<string, ResponderStrings> = {
  en: {
    handoff: 'Of course. Please hold while I connect you with a member of our team.',
    goodbye: 'Thank you for calling. Have a great day, goodbye!',
    fallback: "I'm sorry, I didn't quite get that. I can help with {topics}. What would you like to know?",
    fallbackGeneric: "I'm sorry, I didn't quite get that. Could you say it another way?",
    clarify: 'I can help with {topic}. Could you tell me a little more about what you need?',
    empty: "Sorry, I didn't catch that. Could you repeat it, please?",
    labels: {
      hours: 'our opening hours',
      order_status: 'the status of an order',
      refund: 'refunds and returns',
      human_handoff: 'connecting you with a person',
    },
    join: (items) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`),
  },
  es: {
    handoff: 'Por supuesto. Espere un momento mientras le paso con un miembro de nuestro equipo.',
    goodbye: 'Gracias por llamar. Que tenga un buen día, ¡adiós!',
    fallback: 'Lo siento, no le he entendido bien. Puedo ayudarle con {topics}. ¿Qué le gustaría saber?',
    fallbackGeneric: 'Lo siento, no le he entendido bien. ¿Podría decirlo de otra manera?',
    clarify: 'Puedo ayudarle con {topic}. ¿Podría contarme un poco más sobre lo que necesita?',
    empty: 'Perdone, no le he oído bien. ¿Puede repetirlo, por favor?',
    labels: {
      hours: 'nuestro horario',
      order_status: 'el estado de un pedido',
      refund: 'reembolsos y devoluciones',
      human_handoff: 'pasarle con una persona',
    },
    join: (items) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} o ${items[items.length - 1]}`),
  },
};
