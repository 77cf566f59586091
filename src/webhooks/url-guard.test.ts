import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKasseError } from '../domain/errors.js';
import { checkNotificationUrl, isPublicAddress, resolveAllowedAddresses, type Resolver } from './url-guard.js';

test('public and non-public addresses, IPv4-in-IPv6 forms included', () => {
  for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) {
    assert.equal(isPublicAddress(address), true, address);
  }
  for (const address of [
    '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '255.255.255.255', '224.0.0.1', '192.0.2.1', '198.18.0.1',
    '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fd12:3456::1', 'ff02::1', '2001:db8::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2002:7f00:1::', '::127.0.0.1', 'not-an-ip',
  ]) {
    assert.equal(isPublicAddress(address), false, address);
  }
});

const resolver =
  (answers: Record<string, string[]>): Resolver =>
  async (hostname) => {
    const addresses = answers[hostname];
    if (addresses === undefined) throw new Error(`ENOTFOUND ${hostname}`);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

async function refusedCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return isKasseError(error) ? error.code : 'other';
  }
}

test('production: https to a name whose every address is public; sandbox: anything http(s)', async () => {
  const dns = resolver({ 'shop.example': ['93.184.216.34', '2606:2800:220:1::1'], 'mixed.example': ['93.184.216.34', '10.0.0.5'], 'intranet.example': ['192.168.1.2'] });
  assert.equal((await checkNotificationUrl('P00000001', 'https://shop.example/cb?x=1', dns)).hostname, 'shop.example');
  assert.deepEqual(await resolveAllowedAddresses('P00000001', new URL('https://shop.example/'), dns), [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:2800:220:1::1', family: 6 },
  ]);
  assert.equal(await refusedCode(checkNotificationUrl('P00000001', 'http://shop.example/cb', dns)), 'URL_NOT_ALLOWED');
  assert.equal(await refusedCode(checkNotificationUrl('P00000001', 'https://mixed.example/cb', dns)), 'URL_NOT_ALLOWED', 'one private address is enough to refuse');
  assert.equal(await refusedCode(checkNotificationUrl('P00000001', 'https://intranet.example/cb', dns)), 'URL_NOT_ALLOWED');
  assert.equal(await refusedCode(checkNotificationUrl('P00000001', 'https://nowhere.example/cb', dns)), 'URL_NOT_ALLOWED');
  assert.equal(await refusedCode(checkNotificationUrl('P00000001', 'https://user:pw@shop.example/cb', dns)), 'URL_NOT_ALLOWED');
  assert.equal(await refusedCode(checkNotificationUrl('P00000001', 'https://0x7f.1/cb', dns)), 'URL_NOT_ALLOWED');
  assert.equal((await checkNotificationUrl('T00000001', 'http://localhost:8080/cb', dns)).port, '8080');
  assert.equal(await resolveAllowedAddresses('T00000001', new URL('http://127.0.0.1/'), dns), undefined);
  assert.equal(await refusedCode(checkNotificationUrl('T00000001', 'file:///etc/passwd', dns)), 'URL_NOT_ALLOWED');
});

test('delivery-time resolution refuses a name that now points inside (DNS rebinding)', async () => {
  let answer = ['93.184.216.34'];
  const dns: Resolver = async () => answer.map((address) => ({ address, family: 4 }));
  await checkNotificationUrl('P00000001', 'https://rebind.example/cb', dns);
  answer = ['127.0.0.1'];
  assert.equal(await refusedCode(resolveAllowedAddresses('P00000001', new URL('https://rebind.example/cb'), dns)), 'URL_NOT_ALLOWED');
});
