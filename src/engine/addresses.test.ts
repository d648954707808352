import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipBlockAddresses, parseAddress, parseCidr, toCidrs } from './addresses.ts';
import { contains } from './intervals.ts';

test('CIDRs parse for both families, host bits allowed, bad prefixes rejected', () => {
  assert.deepEqual(parseCidr('10.0.0.7/24'), { family: 4, prefix: 24, lo: 0x0a000000n, hi: 0x0a0000ffn });
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('10.0.0.0'), undefined);
  assert.equal(parseCidr('fd00::/129'), undefined);
  assert.equal(parseCidr('fd00::/8')?.family, 6);
});

test('an ipBlock is its CIDR minus its excepts, in IPv4 and IPv6', () => {
  const v4 = ipBlockAddresses({ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] });
  assert.equal(contains(v4, parseAddress('10.2.3.4') as bigint), true);
  assert.equal(contains(v4, parseAddress('10.1.3.4') as bigint), false);
  const v6 = ipBlockAddresses({ cidr: 'fd00::/8', except: ['fd00:1::/32'] });
  assert.equal(contains(v6, parseAddress('fd00:2::1') as bigint), true);
  assert.equal(contains(v6, parseAddress('fd00:1::1') as bigint), false);
  assert.equal(contains(v6, parseAddress('10.2.3.4') as bigint), false);
});

test('address sets print back as the fewest CIDRs', () => {
  assert.deepEqual(toCidrs(ipBlockAddresses({ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] })), [
    '0.0.0.0/5',
    '8.0.0.0/7',
    '11.0.0.0/8',
    '12.0.0.0/6',
    '16.0.0.0/4',
    '32.0.0.0/3',
    '64.0.0.0/2',
    '128.0.0.0/1',
  ]);
  assert.deepEqual(toCidrs(ipBlockAddresses({ cidr: '::/0', except: [] })), ['::/0']);
});
