/**
 * Where Kasse may send notifications (a guard against server-side request forgery).
 *
 * Sandbox (`T`) accounts may use `http://` and `https://` to any host, localhost included:
 * that is what a developer's machine and CI need. Production (`P`) accounts may use only
 * `https://` to hosts whose every address is public: no loopback, private, link-local,
 * carrier-grade NAT, multicast, documentation or otherwise reserved ranges, also when
 * written as IPv4-mapped, NAT64 or 6to4 IPv6. The check runs when a URL is registered and
 * again before every delivery, after DNS resolution, and the delivery connects to an
 * address that passed it, so a name cannot resolve to a public address for the check and
 * to a private one for the connection (DNS rebinding).
 */
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { KasseError } from '../domain/errors.js';
import { isSandboxAccount } from '../domain/ids.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all of its addresses (injectable for tests). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((result) => ({ address: result.address, family: result.family === 6 ? 6 : 4 }));
};

const nonPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID...)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv6');
}

function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const octets = dotted[2]!.split('.').map(Number);
    text = `${dotted[1]}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups = text.includes('::') ? [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

function ipv4FromGroups(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** Whether an IP address is publicly routable (false for anything else, or for text that is not an address). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !nonPublic.check(address, 'ipv4');
  if (family !== 6) return false;
  const groups = ipv6Groups(address);
  if (groups === undefined) return false;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::).
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) {
    if (g5 === 0 && g6 === 0) return false; // :: and ::1 and the rest of ::/96 below ::0.1.0.0
    return isPublicAddress(ipv4FromGroups(g6, g7));
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return isPublicAddress(ipv4FromGroups(g6, g7));
  if (g0 === 0x2002) return isPublicAddress(ipv4FromGroups(g1, g2));
  const normalised = groups.map((group) => group.toString(16)).join(':');
  return !nonPublic.check(normalised, 'ipv6');
}

/** The host of a URL without IPv6 brackets. */
function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function refuse(message: string): never {
  throw new KasseError('URL_NOT_ALLOWED', message);
}

/** Parses a notification URL and checks its form: http(s), no credentials; https only for production accounts. */
export function checkUrlForm(accountId: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    refuse('The URL is not a valid absolute URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse('The URL must use http:// or https://.');
  if (url.username !== '' || url.password !== '') refuse('The URL must not contain credentials.');
  if (!isSandboxAccount(accountId) && url.protocol !== 'https:') refuse('Production accounts can only send to https:// URLs.');
  return url;
}

/**
 * The addresses a production account may connect to for this URL: every address the host
 * resolves to must be public. Sandbox accounts get undefined (connect as usual).
 * Throws URL_NOT_ALLOWED, or the resolver's error when the name does not resolve.
 */
export async function resolveAllowedAddresses(accountId: string, url: URL, resolver: Resolver = systemResolver): Promise<ResolvedAddress[] | undefined> {
  if (isSandboxAccount(accountId)) return undefined;
  const host = bareHostname(url);
  const literal = isIP(host);
  const addresses: ResolvedAddress[] = literal ? [{ address: host, family: literal === 6 ? 6 : 4 }] : await resolver(host);
  if (addresses.length === 0) refuse(`${host} does not resolve to any address.`);
  const blocked = addresses.find((entry) => !isPublicAddress(entry.address));
  if (blocked) refuse(`${host} resolves to ${blocked.address}, which is not a public address.`);
  return addresses;
}

/** Checks a URL when it is registered (session callback_url, webhook subscription). */
export async function checkNotificationUrl(accountId: string, text: string, resolver: Resolver = systemResolver): Promise<URL> {
  const url = checkUrlForm(accountId, text);
  try {
    await resolveAllowedAddresses(accountId, url, resolver);
  } catch (error) {
    if (error instanceof KasseError) throw error;
    refuse(`${bareHostname(url)} could not be resolved.`);
  }
  return url;
}
