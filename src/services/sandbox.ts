/**
 * Sandbox controls for test accounts: the per-account test clock and settling held or
 * unknown authorizations.
 */
import { KasseError } from '../domain/errors.js';
import { isSandboxAccount } from '../domain/ids.js';
import { resolveAuthorization } from '../domain/transaction.js';
import { accountNow } from '../clock.js';
import type { OperationRequest, ServiceContext } from './context.js';
import { idempotentMutation, type MutationResult } from './idempotency.js';
import { forgetClockOffset } from './ledger.js';
import { operate } from './transactions.js';
import type { TransactionView } from './transaction-view.js';

export interface ClockView {
  readonly account_id: string;
  readonly now: string;
  readonly offset_seconds: number;
}

/** The URL's account must be the caller's, and a sandbox one. */
function checkSandboxAccount(principalAccountId: string, accountId: string): void {
  if (principalAccountId !== accountId) throw new KasseError('NOT_FOUND');
  if (!isSandboxAccount(accountId)) throw new KasseError('SANDBOX_ONLY');
}

export async function getClock(ctx: ServiceContext, principalAccountId: string, accountId: string): Promise<ClockView> {
  checkSandboxAccount(principalAccountId, accountId);
  const account = await ctx.store.getAccount(accountId);
  if (account === undefined) throw new KasseError('NOT_FOUND');
  return { account_id: accountId, now: accountNow(ctx.clock, account.clockOffsetMs), offset_seconds: Math.floor(account.clockOffsetMs / 1000) };
}

/** Moves the account's business clock forward (never back). */
export async function advanceClock(
  ctx: ServiceContext,
  accountId: string,
  advanceSeconds: number,
  request: OperationRequest,
): Promise<MutationResult<ClockView>> {
  checkSandboxAccount(request.principal.accountId, accountId);
  const result = await idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const account = await tx.getAccount(accountId);
    if (account === undefined) throw new KasseError('NOT_FOUND');
    const offset = account.clockOffsetMs + advanceSeconds * 1000;
    if (!Number.isSafeInteger(offset)) throw new KasseError('INVALID_REQUEST', 'advance_seconds moves the clock too far.');
    await tx.setClockOffset(accountId, offset);
    return {
      statusCode: 200,
      body: { account_id: accountId, now: accountNow(ctx.clock, offset), offset_seconds: Math.floor(offset / 1000) },
    };
  });
  // After the commit, so no read in between can remember the old offset again.
  forgetClockOffset(ctx, accountId);
  return result;
}

/** Settles an ON_HOLD or UNKNOWN transaction as the provider finally answered. */
export async function resolveTransaction(
  ctx: ServiceContext,
  accountId: string,
  transactionId: string,
  outcome: 'authorized' | 'failed',
  request: OperationRequest,
): Promise<MutationResult<TransactionView>> {
  checkSandboxAccount(request.principal.accountId, accountId);
  return operate(ctx, transactionId, request, (record, now) => ({ decision: resolveAuthorization(record.state, outcome, now) }));
}
