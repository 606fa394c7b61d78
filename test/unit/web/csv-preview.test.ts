import { guessTargets, mappingProblems, parseCsvPreview, remapCsv } from '../../../web/src/pages/campaigns/csv-preview';

/** The campaign wizard's in-browser CSV preview: header + first rows, column mapping, header rewrite. */
describe('campaign wizard CSV preview', () => {
  it('parses quoted cells with commas, escaped quotes and line breaks, CRLF and a BOM, up to maxRows', () => {
    const text = '\uFEFFPhone,"Full Name",note\r\n+14155550123,"Lovelace, Ada","said ""hi""\nthen left"\r\n+12125550188,Grace,\r\n+13035550100,Third,x\r\n';
    const p = parseCsvPreview(text, 2);
    expect(p.header).toEqual(['Phone', 'Full Name', 'note']);
    expect(p.rows).toEqual([
      ['+14155550123', 'Lovelace, Ada', 'said "hi"\nthen left'],
      ['+12125550188', 'Grace', ''],
    ]);
    expect(text.slice(p.headerEnd).startsWith('+14155550123')).toBe(true);
  });

  it('refuses an empty file and an unterminated quote with its line', () => {
    expect(() => parseCsvPreview('')).toThrow('the file is empty');
    expect(() => parseCsvPreview('phone,name\n+1415,"Ada\n')).toThrow('unterminated quoted field on line 2');
  });

  it('guesses fixed columns from common headers, each at most once', () => {
    expect(guessTargets(['Mobile', 'Full Name', 'TZ', 'lang', 'phone', 'plan'])).toEqual(['phone', 'name', 'timezone', 'language', 'variable', 'variable']);
  });

  it('names mapping problems: no phone, a fixed field twice, a variable that the server would read as a field', () => {
    expect(mappingProblems(['a', 'b'], ['variable', 'variable'])).toEqual(['Map one column to phone.']);
    expect(mappingProblems(['a', 'b'], ['phone', 'phone'])).toEqual(['Only one column can be phone.']);
    expect(mappingProblems(['tel', 'Name'], ['phone', 'variable'])).toEqual(['Column "Name" would be read as name: map it to name.']);
    expect(mappingProblems(['tel', ''], ['phone', 'variable'])).toEqual(['Column 2 has no header name: map it to a field or name it in the file.']);
    expect(mappingProblems(['tel', 'x'], ['phone', 'variable'])).toEqual([]);
  });

  it('rewrites only the header line, so the data lines (and their line numbers) stay the file\'s', () => {
    const text = 'Mobile,"Who, exactly",plan\n+14155550123,Ada,gold\n12,Bob,x\n';
    const p = parseCsvPreview(text);
    expect(remapCsv(text, p, ['phone', 'name', 'variable'])).toBe('phone,name,plan\n+14155550123,Ada,gold\n12,Bob,x\n');
    expect(remapCsv(text, p, ['phone', 'variable', 'variable'])).toBe('phone,"Who, exactly",plan\n+14155550123,Ada,gold\n12,Bob,x\n');
  });
});
