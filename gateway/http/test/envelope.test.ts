/** The envelope reader and writer, without sockets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorReply, nestedDeeperThan, parseRequest, resultReply } from '../envelope.js';

describe('parseRequest', () => {
  it('reads id, method and params, ignoring other members', () => {
    assert.deepEqual(parseRequest('{"method": "a.b", "params": [1, "x"], "jsonrpc": "2.0", "id": 0}'), { id: 0, method: 'a.b', params: [1, 'x'] });
    assert.deepEqual(parseRequest('{"id": -3, "method": "", "params": []}'), { id: -3, method: '', params: [] });
  });

  it('refuses everything else', () => {
    for (const text of ['', ' ', 'null', '[]', '1', '"x"', '{', '{"id": 1, "method": "m", "params": []} x', '{"id": 9007199254740992, "method": "m", "params": []}',
      '{"id": 1e400, "method": "m", "params": []}', '{"id": true, "method": "m", "params": []}', '{"id": 1, "method": null, "params": []}',
      '{"id": 1, "method": "m", "params": {"0": 1}}', '{"__proto__": {"id": 1, "method": "m", "params": []}}']) {
      assert.equal(parseRequest(text), null, text);
    }
  });
});

describe('nestedDeeperThan', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    assert.equal(nestedDeeperThan('[[{}]]', 3), false);
    assert.equal(nestedDeeperThan('[[{}]]', 2), true);
    assert.equal(nestedDeeperThan('["[[[[", "\\"[[[["]', 1), false);
    assert.equal(nestedDeeperThan('["\\\\", [[]]]', 2), true);
    assert.equal(nestedDeeperThan('[][][][]', 1), false);
  });
});

describe('replies', () => {
  it('keep the member order error, result, id', () => {
    assert.equal(resultReply(4, [1]).body, '{"error":null,"result":[1],"id":4}');
    assert.equal(resultReply(4, undefined).body, '{"error":null,"result":null,"id":4}');
    assert.equal(errorReply(5, { code: 1, message: 'invalid argument' }).body, '{"error":{"code":1,"message":"invalid argument"},"result":null,"id":5}');
  });
});
