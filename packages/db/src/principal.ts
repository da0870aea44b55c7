/**
 * Who is asking. Every read of an owned resource (a job and what it produced: runs, metrics,
 * modularizations, modules, artifacts) takes one, and the repositories narrow the query by it
 * (owner-filter.ts): a key sees the jobs it submitted and their products, an admin key everything.
 * The API acts for the caller's key; a worker acts as SYSTEM_PRINCIPAL, named at each call, never by
 * leaving the argument out.
 */
import type { ApiScope } from './generated/client.js';

export const SCOPES = ['read', 'submit', 'admin'] as const satisfies readonly ApiScope[];
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** The API key's id; null for SYSTEM_PRINCIPAL and when MWT_AUTH=disabled. */
  keyId: string | null;
  /**
   * What the API's key cache looks the key up by (sha256 of its secret; null without a key): a
   * response that outlives its request (an event stream) re-checks the key with it.
   */
  secretHash: string | null;
  scopes: readonly Scope[];
}

/** The worker, and the API's own bookkeeping across callers: sees every job. */
export const SYSTEM_PRINCIPAL: Principal = Object.freeze({ keyId: null, secretHash: null, scopes: Object.freeze(['admin'] as const) });

export const isAdmin = (p: Principal): boolean => p.scopes.includes('admin');

/** `admin` implies every other scope. */
export const allows = (p: Principal, scope: Scope): boolean => isAdmin(p) || p.scopes.includes(scope);
