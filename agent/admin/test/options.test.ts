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
    expect(() => validateAdminOptions(undefined as never)).toThrow(Object.assign(new TypeError('invalid option: options must be an object'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(() => validateAdminOptions({} as never)).toThrow(Object.assign(new TypeError('invalid option: options.control must be an object with getState, setRatio and setHandlerMode functions'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ control: { getState() {} } as never })).toThrow(TypeError);
    expect(bad({ host: '' })).toThrow(Object.assign(new TypeError('invalid option: options.host must be a non-empty string'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ port: 80.5 })).toThrow(Object.assign(new TypeError('invalid option: options.port must be an integer from 0 to 65535'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ port: '80' as never })).toThrow(Object.assign(new TypeError('invalid option: options.port must be an integer from 0 to 65535'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ port: 70000 })).toThrow(Object.assign(new RangeError('option out of range: options.port must be an integer from 0 to 65535'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
    expect(bad({ port: -1 })).toThrow(Object.assign(new RangeError('option out of range: options.port must be an integer from 0 to 65535'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
    expect(bad({ token: '' })).toThrow(Object.assign(new TypeError('invalid option: options.token must be a non-empty string'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ token: 42 as never })).toThrow(Object.assign(new TypeError('invalid option: options.token must be a non-empty string'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ token: 'a b' })).toThrow(Object.assign(new RangeError('option out of range: options.token must not contain whitespace'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
    expect(bad({ allowUnauthenticatedChanges: 'yes' as never })).toThrow(Object.assign(new TypeError('invalid option: options.allowUnauthenticatedChanges must be a boolean'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ allowUnauthenticatedChanges: true, host: '0.0.0.0' })).toThrow(Object.assign(new RangeError('option out of range: options.allowUnauthenticatedChanges requires a loopback host'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
    expect(bad({ series: 1 as never })).toThrow(Object.assign(new TypeError('invalid option: options.series must be a series sampler, an options object or false'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ series: null as never })).toThrow(Object.assign(new TypeError('invalid option: options.series must be a series sampler, an options object or false'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ defaultMetrics: 1 as never })).toThrow(Object.assign(new TypeError('invalid option: options.defaultMetrics must be a boolean'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
    expect(bad({ bodyLimit: 10 })).toThrow(Object.assign(new RangeError('option out of range: options.bodyLimit must be an integer from 64 to 1048576'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
    expect(bad({ bodyLimit: 1.5 })).toThrow(Object.assign(new TypeError('invalid option: options.bodyLimit must be an integer from 64 to 1048576'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_TYPE' }));
  });

  it('rejects bad options from startAdminServer before listening', async () => {
    await expect(startAdminServer({ control, port: 99999 })).rejects.toThrow(RangeError);
  });

  it('parses BEEHIVE_ADMIN', () => {
    expect(parseAdminAddress('127.0.0.1:9477')).toEqual({ host: '127.0.0.1', port: 9477 });
    expect(parseAdminAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseAdminAddress(':0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(() => parseAdminAddress('localhost')).toThrow(Object.assign(new RangeError('option out of range: BEEHIVE_ADMIN must be host:port, got "localhost"'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
    expect(() => parseAdminAddress('h:70000')).toThrow(Object.assign(new RangeError('option out of range: BEEHIVE_ADMIN port must be from 0 to 65535, got 70000'), { code: 'BEEHIVE_ERR_ADMIN_OPTION_RANGE' }));
  });
});
