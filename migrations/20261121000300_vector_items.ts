import type { Knex } from 'knex';

/** The offline vector store (Pinecone-shaped: namespace, id, values, metadata). Vectors are L2-normalised float4[]. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('vector_items', (t) => {
    t.string('namespace', 100).notNullable();
    t.string('id', 200).notNullable();
    t.specificType('embedding', 'float4[]').notNullable();
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.primary(['namespace', 'id']);
  });
  await knex.raw('CREATE INDEX vector_items_metadata ON vector_items USING gin (metadata jsonb_path_ops)');
}

/** Reverts {@link up}: drops what it created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('vector_items');
}
