import type { WizardState } from './wizard-state';

/** What each wizard step gets: the values, a partial setter, and whether to show its problems (after "Next"). */
export interface StepProps {
  state: WizardState;
  set(patch: Partial<WizardState>): void;
  showErrors: boolean;
}
