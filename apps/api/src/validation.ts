/**
 * How requests are validated (Ajv through @fastify/ajv-compiler), fixed for every route at once:
 * - JSON bodies are typed JSON: no coercion (Fastify's default turns "3", "0x10", true, [3], null
 *   into numbers), and no non-finite numbers (`1e999` parses to Infinity);
 * - query strings and path params are text, so they are coerced, but a number must be written as a
 *   canonical decimal ("20", not "020", "2e1", "0x14", " 20" or "Infinity");
 * - a `uuid` is the bare 8-4-4-4-12 form (ajv-formats also takes a `urn:uuid:` prefix, which
 *   PostgreSQL's uuid type does not).
 */
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = { integer: /^-?(0|[1-9][0-9]*)$/, number: /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/ } as const;

/** What @fastify/ajv-compiler builds and Fastify calls (its published types describe Ajv's compile instead). */
interface RouteDefinition {
  httpPart?: string;
  schema?: unknown;
}
type ValidateFunction = ((data: unknown) => boolean) & { errors?: unknown };
type Compile = (route: RouteDefinition) => ValidateFunction;
interface CompilerOptions {
  customOptions?: Record<string, unknown>;
}
interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message: string;
}

export const AJV_OPTIONS: FastifyServerOptions['ajv'] = {
  customOptions: {
    // POST /jobs is a oneOf keyed on `type`: validate only the branch `type` names.
    discriminator: true,
    // Reject unknown fields (400) instead of silently dropping them: a typo must not go unnoticed.
    removeAdditional: false,
    // NaN and Infinity are not numbers a field may hold.
    strictNumbers: true,
  },
  onCreate: (ajv) => {
    ajv.addFormat('uuid', UUID);
  },
};

/** The validator factory for Fastify's schemaController: typed bodies, canonical numbers in URLs. */
export function buildValidator(): ValidatorFactory {
  const pool = AjvCompiler() as unknown as (externalSchemas: unknown, options: CompilerOptions) => Compile;
  const factory = (externalSchemas: unknown, options: CompilerOptions = {}): Compile => {
    const typed = pool(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } });
    const coercing = pool(externalSchemas, options);
    return (route) => (route.httpPart === 'body' ? typed(route) : canonicalNumbers(route, coercing(route)));
  };
  return factory as unknown as ValidatorFactory;
}

/** Which top-level properties of a query or params schema are numbers, and of which kind. */
function numericFields(schema: unknown): [string, keyof typeof DECIMAL][] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return Object.entries(properties).flatMap(([name, field]) => (field.type === 'integer' || field.type === 'number' ? [[name, field.type] as [string, keyof typeof DECIMAL]] : []));
}

/** Wraps a coercing validator: a numeric field given as text must be a canonical decimal first. */
function canonicalNumbers(route: RouteDefinition, validate: ValidateFunction): ValidateFunction {
  const fields = numericFields(route.schema);
  if (fields.length === 0) return validate;
  const check: ValidateFunction = (data: unknown) => {
    for (const [name, type] of fields) {
      const value = (data as Record<string, unknown> | null)?.[name];
      if (typeof value === 'string' && !DECIMAL[type].test(value)) {
        const error: SchemaError = { keyword: 'type', instancePath: `/${name}`, schemaPath: `#/properties/${name}/type`, params: { type }, message: `must be ${type}` };
        check.errors = [error];
        return false;
      }
    }
    const valid = validate(data);
    check.errors = validate.errors;
    return valid;
  };
  return check;
}
