import { Anchor, Button, Group, Stack, Stepper, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { CAMPAIGNS_KEY } from './campaign-api';
import { ContactsStep, contactsProblems } from './wizard/ContactsStep';
import { AfterCreateFailure, createCampaign } from './wizard/create-campaign';
import { DetailsStep, detailsProblems } from './wizard/DetailsStep';
import { ImportResult } from './wizard/ImportResult';
import { ReviewStep } from './wizard/ReviewStep';
import { ScheduleStep, scheduleProblems } from './wizard/ScheduleStep';
import { INITIAL_STATE, type WizardState } from './wizard/wizard-state';

const STEP_OK = [
  (s: WizardState) => Object.keys(detailsProblems(s)).length === 0,
  (s: WizardState) => contactsProblems(s).length === 0,
  (s: WizardState) => Object.keys(scheduleProblems(s)).length === 0,
];

/**
 * New campaign (supervisor): details → contacts CSV (column mapping preview) → window, pacing and retries → review →
 * create (draft, contacts uploaded, optionally started), then the server's import result with every rejected row.
 * "Next" shows a step's problems instead of moving on; the server's validation issues show on the review step.
 */
export default function CampaignWizardPage() {
  const qc = useQueryClient();
  const [state, setState] = useState<WizardState>(INITIAL_STATE);
  const [step, setStep] = useState(0);
  const [tried, setTried] = useState<boolean[]>([false, false, false]);
  const [startNow, setStartNow] = useState(false);
  const create = useMutation({ mutationFn: () => createCampaign(state, startNow), onSettled: () => qc.invalidateQueries({ queryKey: CAMPAIGNS_KEY }) });
  const set = (patch: Partial<WizardState>) => setState((s) => ({ ...s, ...patch }));
  const props = (i: number) => ({ state, set, showErrors: tried[i] });
  const next = () => {
    if (STEP_OK[step](state)) return setStep(step + 1);
    setTried((t) => t.map((x, i) => (i === step ? true : x)));
  };
  const failure = create.error;
  return (
    <Stack>
        <Title order={1} size="h2">
          New campaign
        </Title>
        {create.data ? (
          <ImportResult outcome={create.data} />
        ) : (
          <>
            <Stepper active={step} onStepClick={(i) => i < step && setStep(i)} size="sm">
              <Stepper.Step label="Details">
                <DetailsStep {...props(0)} />
              </Stepper.Step>
              <Stepper.Step label="Contacts">
                <ContactsStep {...props(1)} />
              </Stepper.Step>
              <Stepper.Step label="Window, pacing, retries">
                <ScheduleStep {...props(2)} />
              </Stepper.Step>
              <Stepper.Step label="Review">
                <ReviewStep {...props(3)} startNow={startNow} setStartNow={setStartNow} />
              </Stepper.Step>
            </Stepper>
            <ApiErrorAlert error={failure instanceof AfterCreateFailure ? failure.cause : failure} title={failure instanceof AfterCreateFailure ? failure.message : 'The campaign was not created'} />
            {failure instanceof AfterCreateFailure && (
              <Anchor component={Link} to={`/campaigns/${failure.campaign.id}`}>
                Open the draft
              </Anchor>
            )}
            <Group>
              {step > 0 && (
                <Button variant="default" onClick={() => setStep(step - 1)} disabled={create.isPending}>
                  Back
                </Button>
              )}
              {step < 3 ? (
                <Button onClick={next}>Next</Button>
              ) : (
                <Button onClick={() => create.mutate()} loading={create.isPending} disabled={failure instanceof AfterCreateFailure}>
                  {startNow ? 'Create and start' : 'Create draft'}
                </Button>
              )}
            </Group>
          </>
        )}
    </Stack>
  );
}
