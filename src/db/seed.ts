import { KnowledgeRepo } from './knowledge';
import type { Knex } from 'knex';
import type { Embedder, VectorStore } from '../providers/types';
import { isDeepStrictEqual } from 'node:util';
import { agentSchema, AgentsRepo, type Agent, type AgentInput } from './agents';
import { ingestDocument } from '../knowledge/ingest';

/** The demo agent as first seeded (English only); a `support` row still exactly like this is upgraded to {@link DEMO_AGENT}. */
export const DEMO_AGENT_V1: AgentInput = {
  id: 'support',
  name: 'Acme Support',
  systemPrompt: [
    'You are the voice assistant of Acme, answering customer phone calls.',
    'Be brief and friendly: one to three short sentences per reply, no lists, no markdown, nothing that cannot be spoken.',
    'Answer only from the knowledge passages you are given; when they do not cover the question, say so and offer to connect the caller to a person.',
    'You can help with opening hours, order status, refunds and returns, and transferring the caller to a human agent.',
    'Never ask for card numbers or passwords.',
  ].join(' '),
  firstMessage: 'Hello, thanks for calling Acme support. How can I help you today?',
  defaultLanguage: 'en',
  languages: ['en'],
  voices: { en: 'en-us' },
  intents: ['hours', 'order_status', 'refund', 'human_handoff', 'goodbye'],
  handoffNumber: '+15005550006',
  isDefault: true,
};

/**
 * The demo agent: Acme's support line in English, Spanish, French and German (greeting in English, replies in the
 * caller's language; espeak-ng voices per language), the default for every number not bound to another agent.
 */
export const DEMO_AGENT: AgentInput = {
  ...DEMO_AGENT_V1,
  systemPrompt: [
    'You are the voice assistant of Acme, answering customer phone calls.',
    "Always answer in the caller's language: English, Spanish, French or German. If the caller speaks another language, answer in English and say that you speak these four.",
    'Be brief and friendly: one to three short sentences per reply, no lists, no markdown, nothing that cannot be spoken.',
    "Answer only from the knowledge passages you are given (they may be in another language than the caller's: translate them); when they do not cover the question, say so and offer to connect the caller to a person.",
    'You can help with opening hours, order status, refunds and returns, and transferring the caller to a human agent.',
    'Never ask for card numbers or passwords.',
  ].join(' '),
  languages: ['en', 'es', 'fr', 'de'],
  voices: { en: 'en-us', es: 'es', fr: 'fr-fr', de: 'de' },
};

/**
 * The demo knowledge base, ingested for {@link DEMO_AGENT}: the four English documents first, then Spanish versions
 * of all four and French and German versions of opening hours and refunds (`language` is what retrieval filters on,
 * so a Spanish caller gets Spanish passages).
 */
export const DEMO_KNOWLEDGE: Array<{ title: string; text: string; language: string }> = [
  {
    title: 'Opening hours',
    language: 'en',
    text: `Our customer support line is open Monday to Friday from 8 am to 8 pm Eastern Time, and on Saturday from 9 am to 5 pm. We are closed on Sundays and on public holidays.

Our online store is open all the time, 24 hours a day, seven days a week. Orders placed after we close are processed the next business day.`,
  },
  {
    title: 'Order status',
    language: 'en',
    text: `To track your order, open the link in your shipping confirmation email, or sign in to your Acme account and choose My orders. Orders usually ship within two business days, and standard delivery takes three to five business days after shipping.

To check the status of an order by phone, please have your order number ready. It starts with the letters AC and is in your order confirmation email. We also need the email address or the postcode used for the order.

If your package has not arrived ten business days after it shipped, tell us and we will send a replacement or give you a refund.`,
  },
  {
    title: 'Refunds and returns',
    language: 'en',
    text: `If you are not happy with your purchase, you can get your money back. Our refund policy lets you return most items within 30 days of delivery for a full refund. Items must be unused and in their original packaging.

To start a return, sign in to your Acme account, choose the order and select Return items, and we will email you a prepaid return label. Refunds are paid to your original payment method within five to seven business days after we receive the return. Shipping costs are refunded only if the item arrived damaged or was wrong.`,
  },
  {
    title: 'Talking to a person',
    language: 'en',
    text: `You can speak to a human agent at any time during our opening hours: just say agent, or ask to talk to a person, and we will transfer your call to a member of our support team. At other times you can leave a message or email help@acme.example and a person will get back to you within one business day.`,
  },
  {
    title: 'Horario de atención',
    language: 'es',
    text: `Nuestra línea de atención al cliente está abierta de lunes a viernes de 8 de la mañana a 8 de la tarde, hora del Este, y los sábados de 9 de la mañana a 5 de la tarde. Cerramos los domingos y los días festivos.

Nuestra tienda en línea está abierta siempre, las 24 horas del día, los siete días de la semana. Los pedidos realizados cuando estamos cerrados se procesan el siguiente día hábil.`,
  },
  {
    title: 'Estado del pedido',
    language: 'es',
    text: `Para seguir su pedido, abra el enlace del correo de confirmación de envío, o inicie sesión en su cuenta de Acme y elija Mis pedidos. Los pedidos suelen enviarse en dos días hábiles, y la entrega estándar tarda de tres a cinco días hábiles después del envío.

Para consultar el estado de un pedido por teléfono, tenga a mano su número de pedido. Empieza por las letras AC y aparece en el correo de confirmación del pedido. También necesitamos el correo electrónico o el código postal del pedido.

Si su paquete no ha llegado diez días hábiles después del envío, avísenos y le enviaremos un reemplazo o le devolveremos el dinero.`,
  },
  {
    title: 'Reembolsos y devoluciones',
    language: 'es',
    text: `Si no está contento con su compra, puede recuperar su dinero. Nuestra política de reembolsos le permite devolver la mayoría de los artículos en un plazo de 30 días desde la entrega para obtener un reembolso completo. Los artículos deben estar sin usar y en su embalaje original.

Para iniciar una devolución, inicie sesión en su cuenta de Acme, elija el pedido y seleccione Devolver artículos, y le enviaremos por correo una etiqueta de devolución prepagada. Los reembolsos se abonan en su método de pago original en un plazo de cinco a siete días hábiles después de recibir la devolución. Los gastos de envío solo se reembolsan si el artículo llegó dañado o no era el correcto.`,
  },
  {
    title: 'Hablar con una persona',
    language: 'es',
    text: `Puede hablar con un agente humano en cualquier momento durante nuestro horario de atención: solo diga agente, o pida hablar con una persona, y transferiremos su llamada a un miembro de nuestro equipo de atención. Fuera de ese horario puede dejar un mensaje o escribir a help@acme.example y una persona le responderá en un día hábil.`,
  },
  {
    title: "Horaires d'ouverture",
    language: 'fr',
    text: `Notre service client est ouvert du lundi au vendredi de 8 h à 20 h, heure de l'Est, et le samedi de 9 h à 17 h. Nous sommes fermés le dimanche et les jours fériés.

Notre boutique en ligne est ouverte en permanence, 24 heures sur 24, sept jours sur sept. Les commandes passées après la fermeture sont traitées le jour ouvré suivant.`,
  },
  {
    title: 'Remboursements et retours',
    language: 'fr',
    text: `Si vous n'êtes pas satisfait de votre achat, vous pouvez être remboursé. Notre politique de remboursement vous permet de retourner la plupart des articles dans les 30 jours suivant la livraison pour un remboursement complet. Les articles doivent être neufs et dans leur emballage d'origine.

Pour lancer un retour, connectez-vous à votre compte Acme, choisissez la commande et sélectionnez Retourner des articles : nous vous enverrons par e-mail une étiquette de retour prépayée. Les remboursements sont versés sur votre moyen de paiement d'origine sous cinq à sept jours ouvrés après réception du retour. Les frais de livraison ne sont remboursés que si l'article est arrivé endommagé ou ne correspondait pas à la commande.`,
  },
  {
    title: 'Öffnungszeiten',
    language: 'de',
    text: `Unser Kundenservice ist montags bis freitags von 8 bis 20 Uhr Eastern Time und samstags von 9 bis 17 Uhr erreichbar. Sonntags und an Feiertagen haben wir geschlossen.

Unser Onlineshop ist jederzeit geöffnet, rund um die Uhr an sieben Tagen der Woche. Bestellungen, die nach Geschäftsschluss eingehen, werden am nächsten Werktag bearbeitet.`,
  },
  {
    title: 'Rückerstattungen und Rücksendungen',
    language: 'de',
    text: `Wenn Sie mit Ihrem Kauf nicht zufrieden sind, bekommen Sie Ihr Geld zurück. Nach unseren Erstattungsrichtlinien können Sie die meisten Artikel innerhalb von 30 Tagen nach der Lieferung gegen volle Erstattung zurückgeben. Die Artikel müssen unbenutzt und in der Originalverpackung sein.

Um eine Rücksendung zu starten, melden Sie sich in Ihrem Acme-Konto an, wählen Sie die Bestellung und dann Artikel zurücksenden, und wir schicken Ihnen per E-Mail ein frankiertes Rücksendeetikett. Erstattungen gehen innerhalb von fünf bis sieben Werktagen nach Eingang der Rücksendung auf Ihr ursprüngliches Zahlungsmittel. Versandkosten werden nur erstattet, wenn der Artikel beschädigt oder falsch ankam.`,
  },
];

export interface SeedDeps {
  embedder: Embedder;
  vectors: VectorStore;
}

/** Whether `a` is still exactly the agent {@link DEMO_AGENT_V1} created (nobody edited it since); the default flag is not compared. */
function isUntouchedV1(a: Agent): boolean {
  // Both through the schema: only the editable fields count (not archivedAt, which the seed never sets).
  const { isDefault: _current, ...mine } = agentSchema.parse(a);
  const { isDefault: _seeded, ...v1 } = agentSchema.parse(DEMO_AGENT_V1);
  return isDeepStrictEqual(mine, v1);
}

/**
 * Seeds the demo without clobbering an operator's data: creates {@link DEMO_AGENT} only if no agent with its id
 * exists (default agent only when no other agent is the default). An existing `support` agent is left as it is,
 * except one still exactly as the first, English-only seed made it ({@link DEMO_AGENT_V1}): that one is upgraded
 * to the multilingual {@link DEMO_AGENT}, keeping its default flag. Then each of {@link DEMO_KNOWLEDGE} in a
 * language the agent speaks is ingested, only when that document is missing or not `ready`. Running it on every
 * deploy (`npm run migrate`) therefore never reverts edits made to the agent or its documents, and running it twice
 * leaves one agent, its `ready` documents and no duplicate chunks or vectors.
 * @returns the agent and the number of chunks per document title.
 * @throws whatever ingestion throws (the failing document is left `failed` and is retried on the next run).
 */
export async function seedDemo(db: Knex, deps: SeedDeps): Promise<{ agent: Agent; chunks: Record<string, number> }> {
  const agents = new AgentsRepo(db);
  const knowledge = new KnowledgeRepo(db);
  let agent = await agents.get(DEMO_AGENT.id);
  // The demo agent answers unconfigured numbers unless another agent was made the default.
  const hasDefault = (await agents.list()).some((a) => a.isDefault);
  if (!agent) {
    agent = await agents.upsert({ ...DEMO_AGENT, isDefault: !hasDefault });
  } else if (isUntouchedV1(agent)) {
    agent = await agents.upsert({ ...DEMO_AGENT, isDefault: agent.isDefault || !hasDefault });
  } else if (!hasDefault) {
    agent = await agents.upsert({ ...agent, isDefault: true });
  }
  const chunks: Record<string, number> = {};
  for (const doc of DEMO_KNOWLEDGE) {
    if (!agent.languages.includes(doc.language)) continue;
    const existing = await knowledge.findByTitle(agent.id, doc.title);
    if (existing?.status === 'ready') {
      chunks[doc.title] = (await knowledge.chunks(existing.id)).length;
      continue;
    }
    const r = await ingestDocument({ db, embedder: deps.embedder, vectors: deps.vectors }, { agentId: agent.id, title: doc.title, text: doc.text, language: doc.language });
    chunks[doc.title] = r.chunks;
  }
  return { agent, chunks };
}
