import { parseE164, phoneNumberInputSchema } from '../../../src/domain/phone-number';
import { agentIdFromName } from '../../../src/http/api/agents';

describe('parseE164', () => {
  it.each([
    ['+1 415 555 0100', '+14155550100'],
    ['+1 (415) 555-0100', '+14155550100'],
    ['  +14155550100 ', '+14155550100'],
    ['+44 20 7183 8750', '+442071838750'],
    ['+33 6 12 34 56 78', '+33612345678'],
  ])('%s → %s', (input, e164) => {
    expect(parseE164(input)).toEqual({ e164 });
  });

  it.each([
    ['415 555 0100', /international form/],
    ['+1 415 555 01000', /too long/],
    ['+1 415', /too short/],
    ['+999 123456', /country code/],
    ['+abc', /not a phone number/],
    ['+1 011 555 0100', /not a valid number|length/],
  ])('rejects %s with a reason', (input, reason) => {
    const r = parseE164(input);
    expect('reason' in r && r.reason).toMatch(reason);
  });

  it('the zod schema outputs E.164 and explains a failure', () => {
    expect(phoneNumberInputSchema.parse('+1 415 555 0100')).toBe('+14155550100');
    const r = phoneNumberInputSchema.safeParse('+1 415 555 01000');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toBe('not a valid phone number: too long');
  });
});

describe('agentIdFromName', () => {
  it('is a slug of the name with a random suffix, valid as an agent id', () => {
    const a = agentIdFromName('Support (Español) — Tier 2');
    expect(a).toMatch(/^support-espanol-tier-2-[0-9a-z]{6}$/);
    expect(agentIdFromName('Support (Español) — Tier 2')).not.toBe(a);
    expect(agentIdFromName('Ассистент')).toMatch(/^agent-[0-9a-z]{6}$/);
    expect(agentIdFromName('x'.repeat(200)).length).toBeLessThanOrEqual(64);
  });
});
