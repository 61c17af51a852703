/** The `http` config section: pinned defaults (admin access closed to the network) and its validation errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, validateConfig } from '../../../conf/load.js';
import { defaultConfig } from '../../../conf/defaults.js';

const withHttp = (http: unknown) => validateConfig({ ...defaultConfig, http });

describe('http config', () => {
  it('defaults: 0.0.0.0:8080, 102400-byte bodies, balance.update from loopback only, no token, no admin listener', () => {
    assert.deepEqual(loadConfig().http, {
      host: '0.0.0.0',
      port: 8080,
      max_body_bytes: 102400,
      admin: { public_access: 'loopback', host: '127.0.0.1' },
    });
    assert.deepEqual(withHttp({}).http, loadConfig().http);
    assert.deepEqual(withHttp({ admin: {} }).http, loadConfig().http);
  });

  it('accepts an admin listener and a token', () => {
    const http = withHttp({ port: 18080, admin: { port: 18081, token: 'x'.repeat(16), public_access: 'token' } }).http;
    assert.deepEqual(http.admin, { port: 18081, token: 'x'.repeat(16), public_access: 'token', host: '127.0.0.1' });
  });

  const invalid: [string, unknown, RegExp][] = [
    ['an unknown key', { colour: 'blue' }, /http.*"colour"/],
    ['an unknown admin key', { admin: { tokn: 'x'.repeat(16) } }, /http\.admin.*"tokn"/],
    ['a port out of range', { port: 65536 }, /http\.port/],
    ['a fractional port', { port: 80.5 }, /http\.port/],
    ['a body limit below 1 KiB', { max_body_bytes: 10 }, /http\.max_body_bytes/],
    ['a short token', { admin: { token: 'short' } }, /http\.admin\.token.*16/],
    ['public_access "token" without a token', { admin: { public_access: 'token' } }, /http\.admin\.token/],
    ['an unknown public_access', { admin: { public_access: 'everyone' } }, /http\.admin\.public_access/],
    ['the admin listener on the public port', { port: 9000, admin: { port: 9000 } }, /http\.admin\.port/],
    ['an empty host', { host: '' }, /http\.host/],
  ];
  for (const [name, http, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => withHttp(http), (err: unknown) => err instanceof ConfigError && message.test(err.message));
    });
  }
});
