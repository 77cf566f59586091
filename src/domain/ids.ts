/**
 * Session and transaction ids: `{account_id}.{22 base58 characters}`. The only place ids
 * are made. Randomness is passed in so tests can fix it.
 */
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ID_LENGTH = 22;

export const accountIdPattern = /^[PT]\d{8}$/;
export const resourceIdPattern = /^[PT]\d{8}\.[1-9A-HJ-NP-Za-km-z]{22}$/;

export type RandomBytes = (size: number) => Uint8Array;

export function newResourceId(accountId: string, randomBytes: RandomBytes): string {
  let suffix = '';
  while (suffix.length < ID_LENGTH) {
    for (const byte of randomBytes(ID_LENGTH * 2)) {
      // 232 = 4 × 58: rejecting bytes above keeps every character equally likely.
      if (byte < 232 && suffix.length < ID_LENGTH) suffix += BASE58[byte % 58];
    }
  }
  return `${accountId}.${suffix}`;
}

/** The account a resource id belongs to, or undefined when the id is malformed. */
export function accountOfResourceId(id: string): string | undefined {
  return resourceIdPattern.test(id) ? id.slice(0, 9) : undefined;
}

export function isSandboxAccount(accountId: string): boolean {
  return accountId.startsWith('T');
}
