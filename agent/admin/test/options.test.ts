import { describe, expect, it } from 'vitest';
import { parseAdminAddress, startAdminServer, validateAdminOptions, type AdminOptions } from '../index';
import { createMemoryControl } from './fixtures/memory-control';

const control = createMemoryControl();
const bad = (o: Partial<AdminOptions>) => () => validateAdminOptions({ control, ...o } as AdminOptions);

describe('admin options', () => {
  it('fills defaults', () => {
    expect(validateAdminOptions({ control })).toMatchObject({ host: '127.0.0.1', port: 9477, allowUnauthenticatedChanges: false, bodyLimit: 4096, defaultMetrics: false });
  });

  it('names the option in every error', () => {
    expect(() => validateAdminOptions(undefined as never)).toThrow(new TypeError('options must be an object'));
    expect(() => validateAdminOptions({} as never)).toThrow(new TypeError('options.control must be an object with getState, setRatio and setHandlerMode functions'));
    expect(bad({ control: { getState() {} } as never })).toThrow(TypeError);
    expect(bad({ host: '' })).toThrow(new TypeError('options.host must be a non-empty string'));
    expect(bad({ port: 80.5 })).toThrow(new TypeError('options.port must be an integer from 0 to 65535'));
    expect(bad({ port: '80' as never })).toThrow(new TypeError('options.port must be an integer from 0 to 65535'));
    expect(bad({ port: 70000 })).toThrow(new RangeError('options.port must be an integer from 0 to 65535'));
    expect(bad({ port: -1 })).toThrow(new RangeError('options.port must be an integer from 0 to 65535'));
    expect(bad({ token: '' })).toThrow(new TypeError('options.token must be a non-empty string'));
    expect(bad({ token: 42 as never })).toThrow(new TypeError('options.token must be a non-empty string'));
    expect(bad({ token: 'a b' })).toThrow(new RangeError('options.token must not contain whitespace'));
    expect(bad({ allowUnauthenticatedChanges: 'yes' as never })).toThrow(new TypeError('options.allowUnauthenticatedChanges must be a boolean'));
    expect(bad({ allowUnauthenticatedChanges: true, host: '0.0.0.0' })).toThrow(new RangeError('options.allowUnauthenticatedChanges requires a loopback host'));
    expect(bad({ series: 1 as never })).toThrow(new TypeError('options.series must be a series sampler, an options object or false'));
    expect(bad({ series: null as never })).toThrow(new TypeError('options.series must be a series sampler, an options object or false'));
    expect(bad({ defaultMetrics: 1 as never })).toThrow(new TypeError('options.defaultMetrics must be a boolean'));
    expect(bad({ bodyLimit: 10 })).toThrow(new RangeError('options.bodyLimit must be an integer from 64 to 1048576'));
    expect(bad({ bodyLimit: 1.5 })).toThrow(new TypeError('options.bodyLimit must be an integer from 64 to 1048576'));
  });

  it('rejects bad options from startAdminServer before listening', async () => {
    await expect(startAdminServer({ control, port: 99999 })).rejects.toThrow(RangeError);
  });

  it('parses BEEHIVE_ADMIN', () => {
    expect(parseAdminAddress('127.0.0.1:9477')).toEqual({ host: '127.0.0.1', port: 9477 });
    expect(parseAdminAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseAdminAddress(':0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(() => parseAdminAddress('localhost')).toThrow(new RangeError('BEEHIVE_ADMIN must be host:port, got "localhost"'));
    expect(() => parseAdminAddress('h:70000')).toThrow(new RangeError('BEEHIVE_ADMIN port must be from 0 to 65535, got 70000'));
  });
});
