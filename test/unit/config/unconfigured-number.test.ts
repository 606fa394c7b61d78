import { ConfigError, loadConfig } from '../../../src/config';

describe('config: UNCONFIGURED_NUMBER', () => {
  it("defaults to 'default' (route to the default agent, as before the setting existed)", () => {
    expect(loadConfig({}).unconfiguredNumber).toBe('default');
    expect(loadConfig({ UNCONFIGURED_NUMBER: 'default' }).unconfiguredNumber).toBe('default');
  });

  it("accepts 'reject'", () => {
    expect(loadConfig({ UNCONFIGURED_NUMBER: 'reject' }).unconfiguredNumber).toBe('reject');
  });

  it('names the variable when the value is unknown', () => {
    expect(() => loadConfig({ UNCONFIGURED_NUMBER: 'hangup' })).toThrow(ConfigError);
    expect(() => loadConfig({ UNCONFIGURED_NUMBER: 'hangup' })).toThrow(/UNCONFIGURED_NUMBER/);
  });
});
