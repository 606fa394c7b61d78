import type { Knex } from 'knex';

/**
 * Full-text search over call transcripts and keyset listing of calls (`GET /api/calls?q=…`).
 *
 * `call_search` holds one `tsvector` per call: the whole transcript (caller and agent turns, in `seq` order), so a
 * query matches the call when its words occur anywhere in the conversation ("refund invoice" finds a call where the
 * caller said one word and the agent the other; `-refund` excludes calls that mention it in any turn). The `simple`
 * text-search configuration lowercases and splits words without stemming or stop words: transcripts mix languages
 * (en, es, fr, de …) per turn, and a per-language stemmer would need the query's language too.
 *
 * A statement-level trigger on `call_turns` (transition table `new_turns`) appends each inserted turn's lexemes to
 * the call's document (`||` keeps word positions after the existing ones, so phrase queries work). Turns are
 * append-only; an UPDATE of a turn's text or a DELETE rebuilds the affected calls' documents from their turns.
 * Existing transcripts are backfilled here.
 *
 * `calls_started_at_call_sid` serves the newest-first keyset order `(started_at, call_sid)` of the list and the CSV
 * export (it replaces the single-column `started_at` index).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE call_search (
      call_sid varchar(64) PRIMARY KEY REFERENCES calls (call_sid) ON DELETE CASCADE,
      document tsvector NOT NULL
    )`);
  await knex.raw('CREATE INDEX call_search_document ON call_search USING gin (document)');
  await knex.raw(`
    CREATE FUNCTION call_search_append_turns() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO call_search (call_sid, document)
        SELECT call_sid, to_tsvector('simple', string_agg(text, E'\\n' ORDER BY seq)) FROM new_turns GROUP BY call_sid
        ON CONFLICT (call_sid) DO UPDATE SET document = call_search.document || EXCLUDED.document;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE FUNCTION call_search_rebuild(sids varchar[]) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM call_search WHERE call_sid = ANY (sids);
      INSERT INTO call_search (call_sid, document)
        SELECT call_sid, to_tsvector('simple', string_agg(text, E'\\n' ORDER BY seq)) FROM call_turns
        WHERE call_sid = ANY (sids) GROUP BY call_sid;
    END $$`);
  await knex.raw(`
    CREATE FUNCTION call_search_rebuild_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM call_search_rebuild(ARRAY(SELECT DISTINCT call_sid FROM old_turns));
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER call_turns_search_insert AFTER INSERT ON call_turns
      REFERENCING NEW TABLE AS new_turns FOR EACH STATEMENT EXECUTE FUNCTION call_search_append_turns()`);
  await knex.raw(`
    CREATE TRIGGER call_turns_search_update AFTER UPDATE ON call_turns
      REFERENCING OLD TABLE AS old_turns FOR EACH STATEMENT EXECUTE FUNCTION call_search_rebuild_changed()`);
  await knex.raw(`
    CREATE TRIGGER call_turns_search_delete AFTER DELETE ON call_turns
      REFERENCING OLD TABLE AS old_turns FOR EACH STATEMENT EXECUTE FUNCTION call_search_rebuild_changed()`);
  await knex.raw(`
    INSERT INTO call_search (call_sid, document)
      SELECT call_sid, to_tsvector('simple', string_agg(text, E'\\n' ORDER BY seq)) FROM call_turns GROUP BY call_sid`);
  await knex.raw('CREATE INDEX calls_started_at_call_sid ON calls (started_at, call_sid)');
  await knex.raw('DROP INDEX IF EXISTS calls_started_at_index');
}

/** Reverts {@link up}: drops what it created and restores the `started_at` index. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS calls_started_at_index ON calls (started_at)');
  await knex.raw('DROP INDEX calls_started_at_call_sid');
  await knex.raw('DROP TRIGGER call_turns_search_delete ON call_turns');
  await knex.raw('DROP TRIGGER call_turns_search_update ON call_turns');
  await knex.raw('DROP TRIGGER call_turns_search_insert ON call_turns');
  await knex.raw('DROP FUNCTION call_search_rebuild_changed()');
  await knex.raw('DROP FUNCTION call_search_rebuild(varchar[])');
  await knex.raw('DROP FUNCTION call_search_append_turns()');
  await knex.raw('DROP TABLE call_search');
}
