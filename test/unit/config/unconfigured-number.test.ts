import { ConfigError, loadConfig } from '../../../src/config';

describe('config: UNCONFIGURED_NUMBER', () => {
  it("defaults to 'default' (route to the default agent, as before the setting existed)", () => {
    expect(loadConfig({ NODE_ENV: 'test' }).unconfiguredNumber).toBe('default');
    expect(loadConfig({ NODE_ENV: 'test', UNCONFIGURED_NUMBER: 'default' }).unconfiguredNumber).toBe('default');
  });

  it("accepts 'reject'", () => {
    expect(loadConfig({ NODE_ENV: 'test', UNCONFIGURED_NUMBER: 'reject' }).unconfiguredNumber).toBe('reject');
  });

  it('names the variable when the value is unknown', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', UNCONFIGURED_NUMBER: 'hangup' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'test', UNCONFIGURED_NUMBER: 'hangup' })).toThrow(/UNCONFIGURED_NUMBER/);
  });
});
