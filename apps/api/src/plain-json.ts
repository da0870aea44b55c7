/**
 * A serializer compiler for the routes that answer with a Job: JSON.stringify instead of
 * fast-json-stringify. A Job is a oneOf (one schema per job type), which fast-json-stringify serializes
 * by validating the answer against each branch in turn and throwing when none matches: a `params` or
 * `result` stored by an older worker in another shape would turn GET /jobs/:id into a 500. toJobView
 * builds exactly the documented fields, so nothing is left for the schema to strip; params and result
 * go out as stored, as they always have.
 */
import type { FastifySerializerCompiler } from 'fastify';

export const plainJson: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);
