import type { Knex } from 'knex';

/**
 * CSAT you can trust (issue 13 §5): agents get an optional end-of-call DTMF survey (`csat_survey`, the JSON of
 * `csatSurveySchema` in src/domain/agent-settings.ts, default off), and `call_csat` keeps the caller's stated score
 * (1..5, from the survey) and when it was given beside the predicted `score`. Both nullable: most calls have none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.jsonb('csat_survey').notNullable().defaultTo(JSON.stringify({ enabled: false }));
  });
  await knex.schema.alterTable('call_csat', (t) => {
    t.smallint('stated_score').nullable();
    t.timestamp('stated_at', { useTz: true }).nullable();
  });
  await knex.raw('ALTER TABLE call_csat ADD CONSTRAINT call_csat_stated_score_range CHECK (stated_score BETWEEN 1 AND 5)');
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('call_csat', (t) => {
    t.dropChecks(['call_csat_stated_score_range']);
    t.dropColumn('stated_score');
    t.dropColumn('stated_at');
  });
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('csat_survey');
  });
}
