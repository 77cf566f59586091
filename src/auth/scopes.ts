/** API client scopes and what each lets a token do. */
export const scopes = ['admin:checkout', 'write:checkout', 'read:checkout'] as const;
export type Scope = (typeof scopes)[number];
export type Access = 'read' | 'write';

export function isScope(value: string): value is Scope {
  return (scopes as readonly string[]).includes(value);
}

export function allows(granted: readonly string[], access: Access): boolean {
  if (granted.includes('admin:checkout') || granted.includes('write:checkout')) return true;
  return access === 'read' && granted.includes('read:checkout');
}

/** Who is calling: a token's client, or a backoffice user acting on an account. */
export interface Principal {
  readonly accountId: string;
  /** Recorded as an event's `created_by`. */
  readonly actor: string;
  readonly scopes: readonly string[];
}
