/**
 * How a native kernel is written and turned into a tfjs KernelConfig: typed attributes (checked once,
 * against guards, by the config), the NativeBackend, and what happens where the kernel declines.
 */
import * as tf from '@tensorflow/tfjs';
import { hasAttrs, requireAttrs, type AttrGuards } from '@mwt/core/kernel-attrs';
import { NATIVE_BACKEND, NativeBackend } from './backend.js';

export interface NativeKernelArgs<A = unknown> {
  inputs: tf.NamedTensorInfoMap;
  backend: NativeBackend;
  attrs: A;
}

/** A native kernel: a result, or undefined to let the cpu backend's kernel handle these inputs. */
export type NativeKernel<A = unknown> = (args: NativeKernelArgs<A>) => tf.TensorInfo | tf.TensorInfo[] | undefined;

/** The named inputs a kernel needs (tfjs' map types every entry as possibly absent). */
export function requireInputs<K extends string>(inputs: tf.NamedTensorInfoMap, ...names: K[]): Record<K, tf.TensorInfo> {
  const found = {} as Record<K, tf.TensorInfo>;
  for (const name of names) {
    const input = inputs[name];
    if (!input) throw new Error(`kernel input ${name} is missing`);
    found[name] = input;
  }
  return found;
}

function asNativeBackend(backend: unknown): NativeBackend {
  if (!(backend instanceof NativeBackend)) throw new Error(`${NATIVE_BACKEND} kernel called on another backend`);
  return backend;
}

/** MWT_NATIVE_TRACE=1 logs every call that falls back to the cpu kernel (to find what is worth a native kernel). */
const traceFallbacks = process.env.MWT_NATIVE_TRACE === '1';

function traceFallback(kernelName: string, inputs: tf.NamedTensorInfoMap): void {
  const described = Object.entries(inputs).map(([name, t]) => `${name}:${t?.dtype}[${t?.shape.join(',')}]`);
  process.stderr.write(`[mwt-native] ${kernelName} fell back to cpu (${described.join(' ')})\n`);
}

/** The cpu backend's kernel that a native one falls back to. */
export function cpuKernel(kernelName: string): tf.KernelConfig {
  const cpu = tf.getKernel(kernelName, 'cpu');
  if (!cpu) throw new Error(`the cpu backend has no ${kernelName} kernel to fall back to`);
  return cpu;
}

/**
 * A tfjs kernel done natively where it can be: where the kernel returns undefined, or the attributes
 * are not what `attrGuards` states (tfjs' ops always pass them so), the cpu backend's kernel runs.
 */
export function nativeOrCpuKernel<A extends object>(kernelName: string, attrGuards: AttrGuards<A>, kernel: NativeKernel<A>): tf.KernelConfig {
  let cpu: tf.KernelConfig | undefined;
  return {
    kernelName,
    backendName: NATIVE_BACKEND,
    kernelFunc: (args) => {
      const attrs = args.attrs ?? {};
      const result = hasAttrs(attrs, attrGuards) ? kernel({ inputs: args.inputs, backend: asNativeBackend(args.backend), attrs }) : undefined;
      if (result !== undefined) return result;
      if (traceFallbacks) traceFallback(kernelName, args.inputs);
      cpu ??= cpuKernel(kernelName);
      return cpu.kernelFunc(args);
    },
  };
}

/** One of MwT's own kernels (kernel-names.ts), which exist on this backend only: no fallback. */
export function nativeOnlyKernel<A extends object>(kernelName: string, attrGuards: AttrGuards<A>, kernel: NativeKernel<A>): tf.KernelConfig {
  return {
    kernelName,
    backendName: NATIVE_BACKEND,
    kernelFunc: (args) => {
      const attrs = requireAttrs(kernelName, args.attrs ?? {}, attrGuards);
      const result = kernel({ inputs: args.inputs, backend: asNativeBackend(args.backend), attrs });
      if (result === undefined) throw new Error(`${kernelName}: unsupported inputs`);
      return result;
    },
  };
}
