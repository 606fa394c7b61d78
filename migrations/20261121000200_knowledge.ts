import type { Knex } from 'knex';

/** Knowledge documents and their chunks (the text; vectors live in the vector store). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('knowledge_documents', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.string('agent_id', 64).notNullable().references('agents.id').onDelete('CASCADE');
    t.string('title', 300).notNullable();
    t.string('language', 8).notNullable().defaultTo('en');
    t.string('status', 16).notNullable().defaultTo('pending'); // pending | ready | failed
    t.text('error');
    t.timestamps(true, true);
    t.unique(['agent_id', 'title']);
  });
  await knex.schema.createTable('knowledge_chunks', (t) => {
    t.string('id', 100).primary(); // `${documentId}:${ord}`, also the vector id
    t.uuid('document_id').notNullable().references('knowledge_documents.id').onDelete('CASCADE');
    t.integer('ord').notNullable();
    t.text('text').notNullable();
    t.index(['document_id']);
  });
}

/** Reverts {@link up}: drops what it created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('knowledge_chunks');
  await knex.schema.dropTable('knowledge_documents');
}
