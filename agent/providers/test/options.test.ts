import { describe, it, expect } from 'vitest';
import { createLambdaProvider, providerOptionsFromEnv as lambdaEnv } from '../lambda';
import { createOpenWhiskProvider, providerOptionsFromEnv as owEnv } from '../openwhisk';
import './helpers';

const lambda = (o: object) => () => createLambdaProvider({ functionName: 'f', endpoint: 'http://127.0.0.1:9', ...o } as never);
const ow = (o: object) => () => createOpenWhiskProvider({ apihost: 'http://127.0.0.1:9', auth: 'a:b', action: 'x', ...o } as never);

describe('provider options are validated at construction with messages naming the option', () => {
  it.each([
    [lambda({ functionName: '' }), TypeError, 'options.functionName must be a non-empty string'],
    [lambda({ functionName: 42 }), TypeError, 'options.functionName must be a non-empty string'],
    [lambda({ qualifier: '' }), TypeError, 'options.qualifier must be a non-empty string'],
    [lambda({ endpoint: 'ftp://x' }), TypeError, 'options.endpoint must be an http(s) URL'],
    [lambda({ endpoint: 'not a url' }), TypeError, 'options.endpoint must be an http(s) URL'],
    [lambda({ region: '' }), TypeError, 'options.region must be a non-empty string'],
    [lambda({ memoryMB: 64 }), RangeError, 'options.memoryMB must be between 128 and 10240'],
    [lambda({ memoryMB: 1.5 }), TypeError, 'options.memoryMB must be an integer'],
    [lambda({ maxPayloadBytes: 7 * 1024 * 1024 }), RangeError, 'options.maxPayloadBytes must be between 1024 and 6291456'],
    [lambda({ maxAttempts: 0 }), RangeError, 'options.maxAttempts must be between 1 and 10'],
    [lambda({ logTail: 'yes' }), TypeError, 'options.logTail must be a boolean'],
    [lambda({ throttleBackoffMs: -1 }), RangeError, 'options.throttleBackoffMs must be between 0 and 60000'],
    [lambda({ prices: { perGbSecond: -1 } }), RangeError, 'options.prices.perGbSecond must be >= 0'],
    [lambda({ prices: { perMillionRequests: 'x' } }), TypeError, 'options.prices.perMillionRequests must be a finite number'],
    [lambda({ functionNme: 'typo' }), TypeError, 'options.functionNme is not a known option'],
    [ow({ apihost: '' }), TypeError, 'options.apihost must be a non-empty string'],
    [ow({ auth: undefined }), TypeError, 'options.auth must be a non-empty string'],
    [ow({ auth: 'nocolon' }), TypeError, 'options.auth must be an API key of the form uuid:key'],
    [ow({ action: '' }), TypeError, 'options.action must be a non-empty string'],
    [ow({ namespace: '' }), TypeError, 'options.namespace must be a non-empty string'],
    [ow({ maxPayloadBytes: 10 }), RangeError, 'options.maxPayloadBytes must be between 1024 and 67108864'],
    [ow({ ignoreCerts: 1 }), TypeError, 'options.ignoreCerts must be a boolean'],
    [ow({ pollIntervalMs: 0 }), RangeError, 'options.pollIntervalMs must be between 1 and 10000'],
  ])('%#: %s', (make, type, message) => {
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });

  it('rejects a non-object', () => {
    expect(() => createLambdaProvider(null as never)).toThrow('options must be an object');
  });

  it('names the missing environment variable through the option it fills', () => {
    expect(() => createLambdaProvider(lambdaEnv({}))).toThrow('options.functionName must be a non-empty string');
    expect(() => createOpenWhiskProvider(owEnv({ BEEHIVE_OPENWHISK_APIHOST: 'h', BEEHIVE_OPENWHISK_AUTH: 'a:b' }))).toThrow('options.action must be a non-empty string');
    expect(() => createLambdaProvider(lambdaEnv({ BEEHIVE_LAMBDA_FUNCTION: 'f', BEEHIVE_LAMBDA_MEMORY: 'lots' }))).toThrow('options.memoryMB must be an integer');
  });

  it('splits name:qualifier and exposes the payload limits', async () => {
    const p = createLambdaProvider({ functionName: 'f:live' });
    expect(p.maxPayloadBytes).toBe(6 * 1024 * 1024);
    await p.close();
    const o = createOpenWhiskProvider({ apihost: 'https://example.invalid', auth: 'a:b', action: 'x' });
    expect(o.maxPayloadBytes).toBe(1024 * 1024);
    await o.close();
  });
});
