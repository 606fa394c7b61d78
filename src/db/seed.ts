import { KnowledgeRepo } from './knowledge';
import type { Knex } from 'knex';
import type { Embedder, VectorStore } from '../providers/types';
import { AgentsRepo, type Agent, type AgentInput } from './agents';
import { ingestDocument } from '../knowledge/ingest';

/** The demo agent: Acme's English support line, the default for every number not bound to another agent. */
export const DEMO_AGENT: AgentInput = {
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

/** The demo knowledge base (title → text), ingested for {@link DEMO_AGENT}. */
export const DEMO_KNOWLEDGE: Array<{ title: string; text: string }> = [
  {
    title: 'Opening hours',
    text: `Our customer support line is open Monday to Friday from 8 am to 8 pm Eastern Time, and on Saturday from 9 am to 5 pm. We are closed on Sundays and on public holidays.

Our online store is open all the time, 24 hours a day, seven days a week. Orders placed after we close are processed the next business day.`,
  },
  {
    title: 'Order status',
    text: `To track your order, open the link in your shipping confirmation email, or sign in to your Acme account and choose My orders. Orders usually ship within two business days, and standard delivery takes three to five business days after shipping.

To check the status of an order by phone, please have your order number ready. It starts with the letters AC and is in your order confirmation email. We also need the email address or the postcode used for the order.

If your package has not arrived ten business days after it shipped, tell us and we will send a replacement or give you a refund.`,
  },
  {
    title: 'Refunds and returns',
    text: `If you are not happy with your purchase, you can get your money back. Our refund policy lets you return most items within 30 days of delivery for a full refund. Items must be unused and in their original packaging.

To start a return, sign in to your Acme account, choose the order and select Return items, and we will email you a prepaid return label. Refunds are paid to your original payment method within five to seven business days after we receive the return. Shipping costs are refunded only if the item arrived damaged or was wrong.`,
  },
  {
    title: 'Talking to a person',
    text: `You can speak to a human agent at any time during our opening hours: just say agent, or ask to talk to a person, and we will transfer your call to a member of our support team. At other times you can leave a message or email help@acme.example and a person will get back to you within one business day.`,
  },
];

export interface SeedDeps {
  embedder: Embedder;
  vectors: VectorStore;
}

/**
 * Seeds the demo without clobbering an operator's data: creates {@link DEMO_AGENT} only if no agent with its id
 * exists (default agent only when no other agent is the default), and ingests each of {@link DEMO_KNOWLEDGE} only
 * when that document is missing or not `ready`. Running it on every deploy (`npm run migrate`) therefore never
 * reverts edits made to the agent or its documents, and running it twice leaves one agent, four `ready` documents
 * and no duplicate chunks or vectors.
 * @returns the agent and the number of chunks per document title.
 * @throws whatever ingestion throws (the failing document is left `failed` and is retried on the next run).
 */
export async function seedDemo(db: Knex, deps: SeedDeps): Promise<{ agent: Agent; chunks: Record<string, number> }> {
  const agents = new AgentsRepo(db);
  const knowledge = new KnowledgeRepo(db);
  let agent = await agents.get(DEMO_AGENT.id);
  if (!agent) {
    const hasDefault = (await agents.list()).some((a) => a.isDefault);
    agent = await agents.upsert({ ...DEMO_AGENT, isDefault: !hasDefault });
  }
  const chunks: Record<string, number> = {};
  for (const doc of DEMO_KNOWLEDGE) {
    const existing = await knowledge.findByTitle(agent.id, doc.title);
    if (existing?.status === 'ready') {
      chunks[doc.title] = (await knowledge.chunks(existing.id)).length;
      continue;
    }
    const r = await ingestDocument({ db, embedder: deps.embedder, vectors: deps.vectors }, { agentId: agent.id, title: doc.title, text: doc.text, language: 'en' });
    chunks[doc.title] = r.chunks;
  }
  return { agent, chunks };
}
