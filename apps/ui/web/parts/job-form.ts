/**
 * "New job": the form is built from the API's own job schemas (POST /jobs in /docs/json), so a new
 * field or bound shows up here without a change. Fields left empty take the API's defaults. A 400
 * is shown next to the field its message names (`body/params/epochs must be <= 500`), as is a
 * 404/409 about a referenced run (`params.runId: run … not found`).
 */
import { html, nothing, render, type TemplateResult } from 'lit-html';
import { ApiError, getJson, sendJson } from '../api.js';
import type { JobView } from '../types.js';

interface FieldSchema {
  type?: string;
  enum?: (string | number)[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  default?: unknown;
  description?: string;
  format?: string;
  items?: FieldSchema;
}

export interface JobTypeSchema {
  type: string;
  required: string[];
  fields: [string, FieldSchema][];
}

interface OpenApiDoc {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Ref }> } }>>;
  components: { schemas: Record<string, unknown> };
}
interface Ref {
  $ref?: string;
}
interface BranchSchema {
  properties: { type: { enum?: string[]; const?: string }; params?: Ref & { properties?: Record<string, FieldSchema>; required?: string[] } };
}
interface UnionSchema {
  oneOf?: Ref[];
}

/** The body's schemas are components (`#/components/schemas/JobRequest`, one branch per job type, one params schema each). */
function resolve<T>(doc: OpenApiDoc, schema: Ref | undefined): T | undefined {
  const name = schema?.$ref?.split('/').at(-1);
  return (name ? doc.components.schemas[name] : schema) as T | undefined;
}

export async function loadJobSchemas(): Promise<JobTypeSchema[]> {
  const doc = await getJson<OpenApiDoc>('/docs/json');
  const body = resolve<UnionSchema>(doc, doc.paths['/jobs']?.post?.requestBody?.content['application/json']?.schema);
  const branches = (body?.oneOf ?? []).flatMap((ref) => resolve<BranchSchema>(doc, ref) ?? []);
  return branches.map((branch) => {
    const params = resolve<{ properties?: Record<string, FieldSchema>; required?: string[] }>(doc, branch.properties.params);
    return {
      type: branch.properties.type.const ?? branch.properties.type.enum?.[0] ?? '?',
      required: params?.required ?? [],
      fields: Object.entries(params?.properties ?? {}),
    };
  });
}

/** The params field a validation message names: `body/params/epochs ...`, `params.runId: ...`. */
export function fieldOfMessage(message: string, fields: string[]): string | null {
  const match = /params[/.]([A-Za-z]+)/.exec(message);
  return match && fields.includes(match[1]) ? match[1] : null;
}

function parseValue(raw: string, schema: FieldSchema): unknown {
  if (schema.type === 'array')
    return raw
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
  if (schema.type === 'integer' || schema.type === 'number') return Number(raw);
  return raw;
}

export class JobForm {
  private type: string;
  private errors = new Map<string, string>();
  private formError: string | null = null;
  private busy = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly schemas: JobTypeSchema[],
    private readonly onCreated: (job: JobView) => void,
  ) {
    this.type = schemas.find((s) => s.type === 'pipeline')?.type ?? schemas[0]?.type ?? '';
    this.draw();
  }

  private get schema(): JobTypeSchema | undefined {
    return this.schemas.find((s) => s.type === this.type);
  }

  private field([name, schema]: [string, FieldSchema], required: boolean): TemplateResult {
    const id = `field-${name}`;
    const error = this.errors.get(name);
    const hint = [
      schema.description,
      schema.default !== undefined ? `default ${Array.isArray(schema.default) ? schema.default.join(', ') : String(schema.default)}` : null,
      schema.minimum !== undefined || schema.exclusiveMinimum !== undefined || schema.maximum !== undefined
        ? `${schema.minimum ?? `> ${schema.exclusiveMinimum}`} … ${schema.maximum ?? ''}`
        : null,
      schema.type === 'array' ? 'comma-separated' : null,
    ]
      .filter(Boolean)
      .join(' · ');
    const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
    const control = schema.enum
      ? html`<select id=${id} name=${name} aria-describedby=${described || nothing} aria-invalid=${error ? 'true' : 'false'}>
          ${required ? nothing : html`<option value="">(default)</option>`} ${schema.enum.map((v) => html`<option value=${String(v)}>${String(v)}</option>`)}
        </select>`
      : html`<input
          id=${id}
          name=${name}
          type=${schema.type === 'integer' || schema.type === 'number' ? 'number' : 'text'}
          step=${schema.type === 'integer' ? '1' : 'any'}
          inputmode=${schema.type === 'array' ? 'numeric' : nothing}
          placeholder=${schema.default !== undefined ? String(schema.default) : ''}
          ?required=${required}
          aria-describedby=${described || nothing}
          aria-invalid=${error ? 'true' : 'false'}
        />`;
    return html`<div class="field ${error ? 'has-error' : ''}">
      <label for=${id}>${name}${required ? html` <span aria-hidden="true">*</span>` : nothing}</label>
      ${control} ${hint ? html`<small id="${id}-hint">${hint}</small>` : nothing} ${error ? html`<p class="field-error" id="${id}-error" role="alert">${error}</p>` : nothing}
    </div>`;
  }

  private draw(): void {
    const schema = this.schema;
    render(
      html`<form class="job-form" novalidate @submit=${(e: SubmitEvent) => this.submit(e)} aria-labelledby="new-job-title">
        <h2 id="new-job-title">New job</h2>
        <div class="field">
          <label for="field-type">type</label>
          <select id="field-type" name="type" @change=${(e: Event) => this.changeType((e.target as HTMLSelectElement).value)}>
            ${this.schemas.map((s) => html`<option value=${s.type} ?selected=${s.type === this.type}>${s.type}</option>`)}
          </select>
        </div>
        <div class="fields">${schema ? schema.fields.map((f) => this.field(f, schema.required.includes(f[0]))) : nothing}</div>
        ${this.formError ? html`<p class="field-error" role="alert">${this.formError}</p>` : nothing}
        <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Submitting…' : 'Submit job'}</button>
      </form>`,
      this.host,
    );
  }

  private changeType(type: string): void {
    this.type = type;
    this.errors.clear();
    this.formError = null;
    this.host.querySelector('form')?.reset();
    this.draw();
    (this.host.querySelector('#field-type') as HTMLSelectElement | null)?.focus();
  }

  private async submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const schema = this.schema;
    if (!schema || this.busy) return;
    const data = new FormData(event.target as HTMLFormElement);
    const params: Record<string, unknown> = {};
    for (const [name, fieldSchema] of schema.fields) {
      const raw = String(data.get(name) ?? '').trim();
      if (raw !== '') params[name] = parseValue(raw, fieldSchema);
    }
    this.errors.clear();
    this.formError = null;
    this.busy = true;
    this.draw();
    try {
      const job = await sendJson<JobView>('POST', '/jobs', { type: schema.type, params });
      this.onCreated(job);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A 400 (validation) or a 404/409 about a referenced run or modularization names its field.
      const field =
        error instanceof ApiError && error.status < 500
          ? fieldOfMessage(
              message,
              schema.fields.map(([n]) => n),
            )
          : null;
      if (field) this.errors.set(field, message);
      else this.formError = message;
    } finally {
      this.busy = false;
      this.draw();
      const invalid = this.host.querySelector<HTMLElement>('[aria-invalid="true"]');
      invalid?.focus();
    }
  }
}
