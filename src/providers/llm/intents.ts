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
  fr: {
    hours: {
      cues: [
        ['horaires', 0.9], ['horaire', 0.9], ['ouvert', 0.85], ['ouverts', 0.85], ['ouvre', 0.8], ['ouvrez', 0.85], ['ferme', 0.75], ['fermez', 0.8],
        ['quelle heure', 0.7], ['a quelle heure', 0.7], ['samedi', 0.55], ['dimanche', 0.55], ['ferie', 0.5], ['aujourd hui', 0.3], ['demain', 0.3],
      ],
      examples: [
        'a quelle heure ouvrez vous', 'quels sont vos horaires', 'a quelle heure fermez vous', 'etes vous ouverts le samedi',
        'ouvrez vous le dimanche', 'quels sont les horaires d ouverture', 'etes vous ouverts aujourd hui',
      ],
    },
    order_status: {
      cues: [
        ['commande', 0.8], ['colis', 0.85], ['livraison', 0.8], ['livre', 0.7], ['suivi', 0.85], ['suivre', 0.8], ['ou est ma', 0.7],
        ['pas arrive', 0.7], ['arrive', 0.55], ['expedie', 0.75], ['statut', 0.5],
      ],
      examples: [
        'ou est ma commande', 'je voudrais suivre ma commande', 'mon colis n est pas arrive', 'ma commande a t elle ete expediee',
        'quand vais je recevoir ma livraison', 'pouvez vous verifier ma commande',
      ],
    },
    refund: {
      cues: [
        ['remboursement', 0.95], ['rembourser', 0.95], ['rembourse', 0.9], ['retour', 0.8], ['retourner', 0.8], ['renvoyer', 0.75],
        ['mon argent', 0.85], ['casse', 0.5], ['endommage', 0.55], ['defectueux', 0.55], ['echange', 0.6],
      ],
      examples: [
        'je veux etre rembourse', 'je voudrais un remboursement', 'comment retourner un article', 'quelle est votre politique de retour',
        'l article est arrive casse je veux un remboursement', 'combien de temps prend un remboursement',
      ],
    },
    human_handoff: {
      cues: [
        ['personne', 0.8], ['humain', 0.95], ['conseiller', 0.9], ['agent', 0.85], ['operateur', 0.9], ['parler a', 0.6], ['transferer', 0.7],
        ['responsable', 0.8], ['quelqu un', 0.6],
      ],
      examples: [
        'je veux parler a une personne', 'puis je parler a un humain', 'passez moi un conseiller', 'je voudrais parler a quelqu un',
        'un conseiller s il vous plait', 'je veux parler au responsable',
      ],
    },
    goodbye: {
      cues: [['au revoir', 0.95], ['bonne journee', 0.8], ['c est tout', 0.8], ['rien d autre', 0.8], ['merci', 0.45], ['a bientot', 0.85]],
      examples: ['merci au revoir', 'c est tout merci', 'rien d autre bonne journee', 'au revoir', 'merci beaucoup au revoir'],
    },
  },
  de: {
    hours: {
      cues: [
        ['offnungszeiten', 0.95], ['geoffnet', 0.85], ['offen', 0.8], ['offnen', 0.85], ['offnet', 0.8], ['schliessen', 0.8], ['geschlossen', 0.75],
        ['wann', 0.45], ['uhrzeit', 0.6], ['samstag', 0.55], ['sonntag', 0.55], ['feiertag', 0.5], ['heute', 0.3], ['morgen', 0.3],
      ],
      examples: [
        'wann haben sie geoffnet', 'wie sind ihre offnungszeiten', 'wann schliessen sie', 'haben sie am samstag geoffnet',
        'haben sie sonntags offen', 'wann offnen sie morgen', 'sind sie heute geoffnet',
      ],
    },
    order_status: {
      cues: [
        ['bestellung', 0.85], ['paket', 0.85], ['lieferung', 0.8], ['sendung', 0.8], ['verfolgen', 0.8], ['sendungsverfolgung', 0.9],
        ['wo ist meine', 0.7], ['nicht angekommen', 0.7], ['angekommen', 0.6], ['versandt', 0.75], ['status', 0.5],
      ],
      examples: [
        'wo ist meine bestellung', 'ich mochte meine bestellung verfolgen', 'mein paket ist nicht angekommen', 'wurde meine bestellung schon versandt',
        'wann kommt meine lieferung', 'konnen sie meine bestellung prufen',
      ],
    },
    refund: {
      cues: [
        ['erstattung', 0.95], ['ruckerstattung', 0.95], ['zuruckerstatten', 0.9], ['geld zuruck', 0.95], ['zurucksenden', 0.8], ['ruckgabe', 0.85],
        ['umtausch', 0.6], ['kaputt', 0.5], ['beschadigt', 0.55], ['defekt', 0.55],
      ],
      examples: [
        'ich mochte mein geld zuruck', 'ich mochte eine ruckerstattung', 'wie kann ich einen artikel zurucksenden', 'wie ist ihre ruckgaberichtlinie',
        'der artikel kam kaputt an ich mochte eine erstattung', 'wie lange dauert eine ruckerstattung',
      ],
    },
    human_handoff: {
      cues: [
        ['mitarbeiter', 0.9], ['mensch', 0.9], ['person', 0.8], ['berater', 0.85], ['sprechen', 0.5], ['verbinden', 0.7], ['vorgesetzten', 0.85],
        ['jemandem', 0.6],
      ],
      examples: [
        'ich mochte mit einem menschen sprechen', 'kann ich mit einem mitarbeiter sprechen', 'verbinden sie mich bitte mit einer person',
        'ich mochte mit jemandem sprechen', 'einen berater bitte', 'ich mochte ihren vorgesetzten sprechen',
      ],
    },
    goodbye: {
      cues: [['auf wiederhoren', 0.95], ['auf wiedersehen', 0.95], ['tschuss', 0.9], ['das wars', 0.8], ['nichts weiter', 0.8], ['danke', 0.45], ['schonen tag', 0.7]],
      examples: ['danke auf wiederhoren', 'das wars danke', 'nichts weiter schonen tag noch', 'tschuss', 'vielen dank auf wiedersehen'],
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
  fr: {
    handoff: 'Bien sûr. Veuillez patienter, je vous mets en relation avec un membre de notre équipe.',
    goodbye: 'Merci de votre appel. Bonne journée, au revoir !',
    fallback: "Désolé, je n'ai pas bien compris. Je peux vous aider pour {topics}. Que souhaitez-vous savoir ?",
    fallbackGeneric: "Désolé, je n'ai pas bien compris. Pourriez-vous le dire autrement ?",
    clarify: 'Je peux vous aider pour {topic}. Pourriez-vous m’en dire un peu plus ?',
    empty: "Pardon, je n'ai pas entendu. Pouvez-vous répéter, s'il vous plaît ?",
    labels: {
      hours: "nos horaires d'ouverture",
      order_status: "le suivi d'une commande",
      refund: 'les remboursements et retours',
      human_handoff: 'vous mettre en relation avec une personne',
    },
    join: (items) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ou ${items[items.length - 1]}`),
  },
  de: {
    handoff: 'Natürlich. Bitte bleiben Sie dran, ich verbinde Sie mit einem Mitarbeiter.',
    goodbye: 'Vielen Dank für Ihren Anruf. Einen schönen Tag noch, auf Wiederhören!',
    fallback: 'Entschuldigung, das habe ich nicht ganz verstanden. Ich kann Ihnen bei {topics} helfen. Was möchten Sie wissen?',
    fallbackGeneric: 'Entschuldigung, das habe ich nicht ganz verstanden. Könnten Sie es anders formulieren?',
    clarify: 'Ich kann Ihnen bei {topic} helfen. Können Sie mir etwas mehr darüber sagen?',
    empty: 'Entschuldigung, das habe ich nicht gehört. Können Sie das bitte wiederholen?',
    labels: {
      hours: 'unseren Öffnungszeiten',
      order_status: 'dem Status einer Bestellung',
      refund: 'Erstattungen und Rücksendungen',
      human_handoff: 'der Verbindung zu einem Mitarbeiter',
    },
    join: (items) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} oder ${items[items.length - 1]}`),
  },
};
