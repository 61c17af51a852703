/** The admin rule on client addresses the end-to-end tests cannot produce (every test client is on loopback). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdminAccess, isLoopback, type ClientInfo, type Listener } from '../admin.js';

const v4 = (...bytes: number[]) => new Uint8Array(bytes);
const v6 = (...words: number[]) => {
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
};
const client = (address: Uint8Array, authorization = '', proxied = false): ClientInfo => ({ authorization, proxied, remoteAddress: () => address });
const TOKEN = '0123456789abcdef-token';

describe('isLoopback', () => {
  it('recognises IPv4, IPv6 and IPv4-mapped loopback addresses only', () => {
    assert.equal(isLoopback(v4(127, 0, 0, 1)), true);
    assert.equal(isLoopback(v4(127, 1, 2, 3)), true);
    assert.equal(isLoopback(v6(0, 0, 0, 0, 0, 0, 0, 1)), true);
    assert.equal(isLoopback(v6(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1)), true);
    assert.equal(isLoopback(v4(10, 0, 0, 1)), false);
    assert.equal(isLoopback(v4(0, 0, 0, 0)), false);
    assert.equal(isLoopback(v4(128, 0, 0, 1)), false);
    assert.equal(isLoopback(v6(0, 0, 0, 0, 0, 0, 0, 0)), false);
    assert.equal(isLoopback(v6(0, 0, 0, 0, 0, 0, 0, 2)), false);
    assert.equal(isLoopback(v6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 1)), false);
    assert.equal(isLoopback(v6(0xfe80, 0, 0, 0, 0, 0, 0, 1)), false);
    assert.equal(isLoopback(v6(0, 0, 0, 0, 0, 0, 0x7f00, 1)), false);
    assert.equal(isLoopback(new Uint8Array(0)), false);
  });
});

describe('AdminAccess', () => {
  const remote = v4(203, 0, 113, 9);
  const local = v4(127, 0, 0, 1);
  const cases: [string, ConstructorParameters<typeof AdminAccess>[0], Listener, ClientInfo, boolean][] = [
    ['default, loopback', { public_access: 'loopback', host: '127.0.0.1' }, 'public', client(local), true],
    ['default, remote', { public_access: 'loopback', host: '127.0.0.1' }, 'public', client(remote), false],
    ['default, remote with a token header', { public_access: 'loopback', host: '127.0.0.1' }, 'public', client(remote, `Bearer ${TOKEN}`), false],
    ['default, loopback through a proxy', { public_access: 'loopback', host: '127.0.0.1' }, 'public', client(local, '', true), false],
    ['loopback + token, loopback without it', { public_access: 'loopback', host: '127.0.0.1', token: TOKEN }, 'public', client(local), false],
    ['loopback + token, loopback with it', { public_access: 'loopback', host: '127.0.0.1', token: TOKEN }, 'public', client(local, `Bearer ${TOKEN}`), true],
    ['token, remote with it', { public_access: 'token', host: '127.0.0.1', token: TOKEN }, 'public', client(remote, `Bearer ${TOKEN}`), true],
    ['token, remote with a wrong one', { public_access: 'token', host: '127.0.0.1', token: TOKEN }, 'public', client(remote, `Bearer ${TOKEN.slice(1)}`), false],
    ['none, loopback', { public_access: 'none', host: '127.0.0.1' }, 'public', client(local), false],
    ['none, admin listener, remote', { public_access: 'none', host: '127.0.0.1' }, 'admin', client(remote), true],
    ['admin listener with a token, without it', { public_access: 'none', host: '127.0.0.1', token: TOKEN }, 'admin', client(local), false],
    ['admin listener with a token, with it', { public_access: 'none', host: '127.0.0.1', token: TOKEN }, 'admin', client(remote, `Bearer  ${TOKEN} `), true],
  ];
  for (const [name, config, listener, info, expected] of cases) {
    it(name, () => assert.equal(new AdminAccess(config).allows(listener, info), expected));
  }

  it('reads only the headers its rule needs', () => {
    const plain = new AdminAccess({ public_access: 'loopback', host: '127.0.0.1' });
    assert.equal(plain.readsAuthorization(), false);
    assert.equal(plain.readsProxyHeaders('public'), true);
    assert.equal(plain.readsProxyHeaders('admin'), false);
    const token = new AdminAccess({ public_access: 'token', host: '127.0.0.1', token: TOKEN });
    assert.equal(token.readsAuthorization(), true);
    assert.equal(token.readsProxyHeaders('public'), false);
  });
});
