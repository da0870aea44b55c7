/**
 * Typed kernel attributes. tfjs hands every kernel its attributes as a loose NamedAttrMap; a kernel
 * states the attributes it reads as guards, one per name, and hasAttrs() checks them all once, which
 * narrows the map to the kernel's own Attrs type (no cast), or says that they do not match.
 */
import type { NamedAttrMap } from '@tensorflow/tfjs';

/** Whether an attribute value has type T. */
export type AttrGuard<T> = (value: unknown) => value is T;

/** One guard per attribute of A, optional ones included (their guards accept undefined). */
export type AttrGuards<A> = { readonly [K in keyof Required<A>]: AttrGuard<A[K]> };

/** Whether `attrs` holds every attribute of A with its type; narrows `attrs` to A where it does. */
export function hasAttrs<A extends object>(attrs: NamedAttrMap, guards: AttrGuards<A>): attrs is NamedAttrMap & A {
  for (const name in guards) if (!guards[name](attrs[name])) return false;
  return true;
}

/** `attrs` as A, or an error naming the kernel (for kernels that have no fallback). */
export function requireAttrs<A extends object>(kernelName: string, attrs: NamedAttrMap, guards: AttrGuards<A>): NamedAttrMap & A {
  if (!hasAttrs(attrs, guards)) throw new Error(`${kernelName}: attributes ${JSON.stringify(attrs)} do not match the kernel's contract`);
  return attrs;
}

export const isBoolean: AttrGuard<boolean> = (value): value is boolean => typeof value === 'boolean';
export const isNumber: AttrGuard<number> = (value): value is number => typeof value === 'number';
export const isNumberArray: AttrGuard<number[]> = (value): value is number[] => Array.isArray(value) && value.every(isNumber);

/** One of the given strings. */
export function oneOf<const V extends string>(...values: V[]): AttrGuard<V> {
  return (value): value is V => values.some((allowed) => allowed === value);
}

/** A tuple of `length` numbers, e.g. a [height, width] pair or a rank-4 shape. */
export function isNumberTuple<N extends 2 | 4>(length: N): AttrGuard<N extends 2 ? [number, number] : [number, number, number, number]> {
  return (value): value is N extends 2 ? [number, number] : [number, number, number, number] => isNumberArray(value) && value.length === length;
}

/** Either of two types. */
export function either<A, B>(first: AttrGuard<A>, second: AttrGuard<B>): AttrGuard<A | B> {
  return (value): value is A | B => first(value) || second(value);
}

/** T, or absent (undefined). */
export function optional<T>(guard: AttrGuard<T>): AttrGuard<T | undefined> {
  return (value): value is T | undefined => value === undefined || guard(value);
}

/** T, or absent (undefined or null: tfjs' ops pass null for an argument left at its default). */
export function nullable<T>(guard: AttrGuard<T>): AttrGuard<T | null | undefined> {
  return (value): value is T | null | undefined => value === undefined || value === null || guard(value);
}
