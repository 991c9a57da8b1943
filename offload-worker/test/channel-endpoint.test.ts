import { describe, expect, it } from 'vitest';
import { channelEndpoint } from '../runtime';

describe('the channel endpoint a worker may connect to, parsed once per URL', () => {
  it('each server URL gives its own host and port, asked again or in any order', () => {
    const a = 'ws://127.0.0.1:4101/beehive';
    const b = 'ws://10.0.0.7:4102/beehive';
    for (let i = 0; i < 3; i++) {
      expect(channelEndpoint(a)).toEqual({ host: '127.0.0.1', port: 4101 });
      expect(channelEndpoint(b)).toEqual({ host: '10.0.0.7', port: 4102 });
    }
    expect(channelEndpoint('wss://[::1]/x')).toEqual({ host: '::1', port: 443 });
    expect(channelEndpoint('ws://example.test/x')).toEqual({ host: 'example.test', port: 80 });
    expect(channelEndpoint('not a url')).toBeUndefined();
    expect(channelEndpoint('not a url')).toBeUndefined();
  });

  it('past the cache bound, URLs are parsed afresh and still right', () => {
    for (let p = 5000; p < 5200; p++) expect(channelEndpoint(`ws://127.0.0.1:${p}/`)).toEqual({ host: '127.0.0.1', port: p });
    expect(channelEndpoint('ws://127.0.0.1:4101/beehive')).toEqual({ host: '127.0.0.1', port: 4101 });
  });
});
