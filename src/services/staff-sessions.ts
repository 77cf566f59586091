/**
 * Backoffice sign-in: scrypt-verified passwords, server-side sessions in the database
 * (so every process sharing it knows them), a CSRF synchronizer token per session, and
 * throttling of failed sign-ins per email and client address.
 *
 * Invariants: the cookie carries a random token and the database only its SHA-256; a
 * session names one of its user's accounts; after THROTTLE_FAILURES failures for an
 * email from one address within THROTTLE_WINDOW_MS, no password is checked for that pair
 * until the oldest of them has aged out.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashSecret, verifySecret } from '../auth/secrets.js';
import type { BackofficeSessionRecord, Store, UserRecord } from '../store/store.js';
import type { Clock } from '../clock.js';

export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
export const THROTTLE_FAILURES = 5;
export const THROTTLE_WINDOW_MS = 15 * 60 * 1000;

export interface StaffSession {
  readonly session: BackofficeSessionRecord;
  readonly user: UserRecord;
}

export type SignInResult =
  | { readonly kind: 'signed-in'; readonly token: string; readonly session: BackofficeSessionRecord }
  | { readonly kind: 'refused'; readonly message: string }
  | { readonly kind: 'throttled'; readonly retryAfterSeconds: number };

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of two tokens (different lengths are simply unequal). */
export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

// Checked when the email is unknown, so that a wrong email costs as much time as a wrong password.
let decoyHash: Promise<string> | undefined;

function throttleKey(email: string, clientAddress: string): string {
  return `${email.trim().toLowerCase().slice(0, 320)} ${clientAddress.slice(0, 64)}`;
}

export async function signIn(store: Store, clock: Clock, input: { email: string; password: string; clientAddress: string }): Promise<SignInResult> {
  const now = clock.now();
  const key = throttleKey(input.email, input.clientAddress);
  const since = new Date(now.getTime() - THROTTLE_WINDOW_MS).toISOString();
  const failures = await store.listLoginFailures(key, since);
  if (failures.length >= THROTTLE_FAILURES) {
    const freedAt = Date.parse(failures[failures.length - THROTTLE_FAILURES]!) + THROTTLE_WINDOW_MS;
    return { kind: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil((freedAt - now.getTime()) / 1000)) };
  }
  const user = input.email.length <= 320 ? await store.getUserByEmail(input.email.trim()) : undefined;
  decoyHash ??= hashSecret(newToken());
  const valid = user ? await verifySecret(input.password, user.passwordHash) : (await verifySecret(input.password, await decoyHash)) && false;
  if (!user || !valid) {
    await store.transaction(async (tx) => {
      await tx.deleteLoginFailures(key, since);
      await tx.insertLoginFailure(key, now.toISOString());
    });
    return { kind: 'refused', message: 'Wrong email or password.' };
  }
  const accountId = user.accountIds[0];
  if (accountId === undefined) return { kind: 'refused', message: 'This user has no account to work on. Ask an administrator to add one.' };
  const token = newToken();
  const session: BackofficeSessionRecord = {
    id: tokenHash(token),
    userId: user.id,
    accountId,
    csrfToken: newToken(),
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS).toISOString(),
  };
  await store.transaction(async (tx) => {
    await tx.deleteLoginFailures(key);
    await tx.deleteExpiredBackofficeSessions(now.toISOString());
    await tx.insertBackofficeSession(session);
  });
  return { kind: 'signed-in', token, session };
}

/** The session a cookie token names, if it is still valid; keeps its account one of the user's. */
export async function findStaffSession(store: Store, clock: Clock, token: string): Promise<StaffSession | undefined> {
  const found = await store.getBackofficeSession(tokenHash(token), clock.now().toISOString());
  if (found === undefined) return undefined;
  if (found.user.accountIds.includes(found.session.accountId)) return found;
  const fallback = found.user.accountIds[0];
  if (fallback === undefined) return undefined;
  await store.setBackofficeSessionAccount(found.session.id, fallback);
  return { ...found, session: { ...found.session, accountId: fallback } };
}

/** Switches the account the session works on; false when the user has no such account. */
export async function switchAccount(store: Store, staff: StaffSession, accountId: string): Promise<boolean> {
  if (!staff.user.accountIds.includes(accountId)) return false;
  await store.setBackofficeSessionAccount(staff.session.id, accountId);
  return true;
}

export async function signOut(store: Store, staff: StaffSession): Promise<void> {
  await store.deleteBackofficeSession(staff.session.id);
}
