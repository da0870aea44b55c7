/**
 * "Try it": draw on a canvas (for 28x28 one-channel datasets such as the digits) or drop / choose
 * an image; the module classifies it in the browser. The image the model sees is shown next to it.
 */
import { html, nothing, render } from 'lit-html';
import { toInputs, type Classifier } from '../classify.js';
import { messageOf } from './common.js';

const PAD = 280;
const STROKE = 22;

export class TryIt {
  private scores: number[] | null = null;
  private error: string | null = null;
  private invert = false;
  private drawing = false;
  private readonly canDraw: boolean;

  constructor(
    private readonly host: HTMLElement,
    private readonly classifier: Classifier,
  ) {
    const [height, width, channels] = classifier.metadata.inputShape;
    this.canDraw = channels === 1 && height === 28 && width === 28;
    this.draw();
    this.clearPad();
  }

  private get pad(): HTMLCanvasElement | null {
    return this.host.querySelector('#pad');
  }

  private get preview(): HTMLCanvasElement {
    return this.host.querySelector('#model-input') as HTMLCanvasElement;
  }

  private clearPad(): void {
    const ctx = this.pad?.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, PAD, PAD);
    this.scores = null;
    this.draw();
  }

  private point(event: PointerEvent): [number, number] {
    const rect = this.pad!.getBoundingClientRect();
    return [((event.clientX - rect.left) / rect.width) * PAD, ((event.clientY - rect.top) / rect.height) * PAD];
  }

  private down(event: PointerEvent): void {
    const ctx = this.pad?.getContext('2d');
    if (!ctx) return;
    this.drawing = true;
    this.pad!.setPointerCapture(event.pointerId);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = STROKE;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...this.point(event));
    ctx.lineTo(...this.point(event));
    ctx.stroke();
  }

  private move(event: PointerEvent): void {
    if (!this.drawing) return;
    const ctx = this.pad!.getContext('2d')!;
    ctx.lineTo(...this.point(event));
    ctx.stroke();
  }

  private up(): void {
    if (!this.drawing) return;
    this.drawing = false;
    void this.classify(this.pad!, PAD, PAD);
  }

  /** Scales `source` into the model's input size, centred on black, and classifies that. */
  private async classify(source: CanvasImageSource, sourceWidth: number, sourceHeight: number): Promise<void> {
    const [height, width] = this.classifier.metadata.inputShape;
    const canvas = this.preview;
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, width, height);
    const scale = Math.min(width / sourceWidth, height / sourceHeight);
    const [w, h] = [sourceWidth * scale, sourceHeight * scale];
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(source, (width - w) / 2, (height - h) / 2, w, h);
    try {
      const inputs = toInputs(ctx.getImageData(0, 0, width, height).data, this.classifier.metadata, this.invert);
      this.scores = await this.classifier.predict(inputs);
      this.error = null;
    } catch (e) {
      this.error = messageOf(e);
    }
    this.draw();
  }

  private async useFile(file: File | undefined): Promise<void> {
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      await this.classify(bitmap, bitmap.width, bitmap.height);
      bitmap.close();
    } catch (e) {
      this.error = `could not read ${file.name}: ${messageOf(e)}`;
      this.draw();
    }
  }

  private result() {
    if (!this.scores) return html`<p class="muted">${this.canDraw ? 'Draw a digit or drop an image' : 'Drop or choose an image'} to classify it.</p>`;
    const { outputClasses, outputClassNames } = this.classifier.metadata;
    const ranked = this.scores.map((score, i) => ({ score, i })).sort((a, b) => b.score - a.score);
    const best = ranked[0];
    return html`<p>
        Predicted class:
        <output id="prediction" data-class=${outputClasses[best.i]} data-score=${best.score}><strong>${outputClassNames[best.i] ?? outputClasses[best.i]}</strong></output>
        (${(best.score * 100).toFixed(1)} %)
      </p>
      <ol class="scores" aria-label="Score of each class">
        ${ranked
          .slice(0, 5)
          .map(
            ({ score, i }) =>
              html`<li>
                <span class="score-label">${outputClassNames[i] ?? outputClasses[i]}</span><span class="score-bar" style="width:${Math.max(1, score * 100)}%"></span
                ><span class="score-value">${(score * 100).toFixed(1)} %</span>
              </li>`,
          )}
      </ol>`;
  }

  private draw(): void {
    render(
      html`<div class="try-grid">
        ${
          this.canDraw
            ? html`<div>
                <canvas
                  id="pad"
                  width=${PAD}
                  height=${PAD}
                  class="pad"
                  aria-label="Drawing area: draw with the mouse, a finger or a pen; or choose an image below"
                  @pointerdown=${(e: PointerEvent) => this.down(e)}
                  @pointermove=${(e: PointerEvent) => this.move(e)}
                  @pointerup=${() => this.up()}
                  @pointercancel=${() => this.up()}
                ></canvas>
                <div><button class="secondary" @click=${() => this.clearPad()}>Clear</button></div>
              </div>`
            : nothing
        }
        <div
          class="drop"
          @dragover=${(e: DragEvent) => e.preventDefault()}
          @drop=${(e: DragEvent) => {
            e.preventDefault();
            void this.useFile(e.dataTransfer?.files[0]);
          }}
        >
          <label for="image-file">Drop an image here or choose one</label>
          <input id="image-file" type="file" accept="image/*" @change=${(e: Event) => void this.useFile((e.target as HTMLInputElement).files?.[0])} />
          <label class="check"
            ><input
              type="checkbox"
              .checked=${this.invert}
              @change=${(e: Event) => {
                this.invert = (e.target as HTMLInputElement).checked;
              }}
            />
            Invert (for dark shapes on a light background)</label
          >
          <figure class="model-input">
            <canvas id="model-input" width="28" height="28" aria-label="The image as the model sees it"></canvas>
            <figcaption>What the model sees (${this.classifier.metadata.inputShape.join(' × ')})</figcaption>
          </figure>
        </div>
        <div class="try-result" aria-live="polite">${this.error ? html`<p class="error" role="alert">${this.error}</p>` : this.result()}</div>
      </div>`,
      this.host,
    );
  }
}
