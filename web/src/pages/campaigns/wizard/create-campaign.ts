import { api, unwrap, type Schema } from '../../../api/client';
import { remapCsv } from '../csv-preview';
import { toCreateBody, type WizardState } from './wizard-state';

/** What the wizard's "Create" did: the campaign, the contact import's result, and whether it was started. */
export interface CreateOutcome {
  campaign: Schema<'Campaign'>;
  imported: Schema<'ContactImportResult'>;
  started: boolean;
}

/**
 * Creates the campaign as a draft (`POST /api/campaigns`), uploads the contacts file with its header rewritten to
 * the mapping (`POST /api/campaigns/:id/contacts`, `text/csv`: the server's line numbers are the file's), then, when
 * asked and at least one contact was accepted, starts it (`POST /api/campaigns/:id/start`).
 * @throws ApiFailure when the create fails (a 400 carries the body's `issues`); {@link AfterCreateFailure} when the
 *   upload or the start fails (the draft stays: the user can add contacts from its page).
 */
export async function createCampaign(s: WizardState, startNow: boolean): Promise<CreateOutcome> {
  const campaign = await unwrap(api.POST('/api/campaigns', { body: toCreateBody(s) }));
  const path = { id: campaign.id };
  try {
    const csv = s.csv!;
    const imported = await unwrap(
      api.POST('/api/campaigns/{id}/contacts', {
        params: { path },
        body: remapCsv(csv.text, csv.preview, csv.targets) as never,
        bodySerializer: (b: unknown) => b as string,
        headers: { 'Content-Type': 'text/csv' },
      }),
    );
    const started = startNow && imported.accepted > 0;
    if (started) await unwrap(api.POST('/api/campaigns/{id}/start', { params: { path } }));
    return { campaign, imported, started };
  } catch (err) {
    throw new AfterCreateFailure(campaign, err);
  }
}

/** The campaign was created but its contacts upload or its start failed (`cause`: usually an ApiFailure). */
export class AfterCreateFailure extends Error {
  constructor(
    readonly campaign: Schema<'Campaign'>,
    readonly cause: unknown,
  ) {
    super(`Campaign "${campaign.name}" was created as a draft, but ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
