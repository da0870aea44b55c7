/**
 * What one training step costs the host on the webgpu backend, without a real GPU (lavapipe will do):
 * tfjs kernels per step by name, tfjs' GPU programs, all dispatches and queue submits per step, and
 * the host's milliseconds to queue a step (the synchronous part of trainStepAsync, before it awaits
 * the device) next to the wall-clock milliseconds of the whole step.
 *
 *   npx tsx bench/webgpu-profile.ts [--model vgg16-small] [--variant modular] [--batch 8] [--steps 3]
 *                                   [--width 0.25] [--input 32,32,3] [--top 40] [--json]
 *
 * Kernel counts come from one step under tf.profile, after a warm-up step; dispatches, submits and
 * times from `--steps` plain steps. On lavapipe the "GPU" is the same CPU, so host and wall times are
 * a loaded CPU's; the counts are exact and the same on any adapter. MWT_WEBGPU_FUSED=0 shows the
 * step without our WGSL kernels.
 */
import { parseArgs } from 'node:util';
import { initBackend, isModelName } from '@mwt/core';
import { measureHostWork } from './webgpu.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'vgg16-small' },
    variant: { type: 'string', default: 'modular' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '3' },
    width: { type: 'string' },
    input: { type: 'string', default: '32,32,3' },
    top: { type: 'string', default: '40' },
    json: { type: 'boolean', default: false },
  },
});
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const info = await initBackend('webgpu');
const [h, w, c] = values.input.split(',').map(Number);
const options = {
  model: values.model,
  modular: values.variant === 'modular',
  batch: Number(values.batch),
  inputShape: [h, w, c] as [number, number, number],
  warmup: 1,
  minSteps: Number(values.steps),
  minMs: 0,
  widthMultiplier: values.width === undefined ? undefined : Number(values.width),
};
const work = await measureHostWork(options, 10);
const report = { backend: info.name, adapter: info.adapter, model: values.model, width: options.widthMultiplier, variant: values.variant, batch: options.batch, ...work };
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const adapter = info.adapter ? `${info.adapter.device}${info.adapter.software ? ' (software)' : ''}` : '?';
  console.log(`${values.model}${options.widthMultiplier ? ` x${options.widthMultiplier}` : ''} ${values.variant} step, batch ${options.batch}, webgpu on ${adapter}`);
  console.log(
    `tfjs kernels/step ${work.kernelsPerStep}; tfjs GPU programs/step ${work.programsPerStep}; dispatches/step (all) ${work.dispatchesPerStep}; queue submits/step ${work.submitsPerStep.toFixed(1)}`,
  );
  console.log(
    `host ms/step (queueing) ${work.hostMsPerStep.toFixed(1)}; wall ms/step ${work.wallMsPerStep.toFixed(1)} (${options.minSteps} steps; first step ${work.firstStepMs.toFixed(0)} ms)`,
  );
  for (const [name, calls] of Object.entries(work.kernels).slice(0, Number(values.top))) console.log(`  ${name.padEnd(28)} ${String(calls).padStart(6)}`);
  console.log(
    `tfjs GPU programs by shader: ${Object.entries(work.programs)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
}
