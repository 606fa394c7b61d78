import type { Knex } from 'knex';
import * as m0100 from './20261121000100_agents';
import * as m0200 from './20261121000200_knowledge';
import * as m0300 from './20261121000300_vector_items';
import * as m0400 from './20261121000400_calls';
import * as m0500 from './20261121000500_post_call';
import * as m0600 from './20261121000600_call_control';
import * as m0700 from './20261121000700_knowledge_source';
import * as m1202_0100 from './20261202000100_agent_vocabulary';
import * as m1202_0200 from './20261202000200_turn_not_understood';
import * as m1202_0300 from './20261202000300_agent_settings';
import * as m1202_0400 from './20261202000400_audit_log';
import * as m1202_0500 from './20261202000500_users_api_keys';
import * as m1202_0600 from './20261202000600_phone_numbers';
import * as m1202_0700 from './20261202000700_call_search';
import * as m1202_0800 from './20261202000800_outbound_campaigns';
import * as m1202_0900 from './20261202000900_campaign_api';
import * as m1202_1000 from './20261202001000_dispatch_outcome';
import * as m1202_1200 from './20261202001200_call_usage';
import * as m1202_1300 from './20261202001300_recordings';
import * as m1202_1500 from './20261202001500_web_calls';
import * as m1202_1600 from './20261202001600_webhooks';
import * as m1203_0050 from './20261203000050_call_analysis';
import * as m1203_0200 from './20261203000200_csat_survey';
import * as m1203_0300 from './20261203000300_crm_connectors';
import * as m1203_0400 from './20261203000400_inbound_triggers';
import * as m1203_0500 from './20261203000500_turn_unheard_text';
import * as m1203_0600 from './20261203000600_webhook_outbox_subject_index';

interface Migration { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> }

const MIGRATIONS: Array<[string, Migration]> = [
  ['20261121000100_agents', m0100],
  ['20261121000200_knowledge', m0200],
  ['20261121000300_vector_items', m0300],
  ['20261121000400_calls', m0400],
  ['20261121000500_post_call', m0500],
  ['20261121000600_call_control', m0600],
  ['20261121000700_knowledge_source', m0700],
  ['20261202000100_agent_vocabulary', m1202_0100],
  ['20261202000200_turn_not_understood', m1202_0200],
  ['20261202000300_agent_settings', m1202_0300],
  ['20261202000400_audit_log', m1202_0400],
  ['20261202000500_users_api_keys', m1202_0500],
  ['20261202000600_phone_numbers', m1202_0600],
  ['20261202000700_call_search', m1202_0700],
  ['20261202000800_outbound_campaigns', m1202_0800],
  ['20261202000900_campaign_api', m1202_0900],
  ['20261202001000_dispatch_outcome', m1202_1000],
  ['20261202001200_call_usage', m1202_1200],
  ['20261202001300_recordings', m1202_1300],
  ['20261202001500_web_calls', m1202_1500],
  ['20261202001600_webhooks', m1202_1600],
  ['20261203000050_call_analysis', m1203_0050],
  ['20261203000200_csat_survey', m1203_0200],
  ['20261203000300_crm_connectors', m1203_0300],
  ['20261203000400_inbound_triggers', m1203_0400],
  ['20261203000500_turn_unheard_text', m1203_0500],
  ['20261203000600_webhook_outbox_subject_index', m1203_0600],
];

/**
 * A knex migration source listing the migrations in order. Explicit imports (instead of knex scanning the
 * folder) make migrations work the same under tsx, compiled JS and Jest. Add new files here.
 */
export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: ([name]) => name,
  getMigration: async ([, m]) => m,
};
