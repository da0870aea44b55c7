/**
 * A reader of the API's Server-Sent Events (GET /jobs/:id/events) over fetch: yields each event as
 * it arrives. A connection that drops before the stream's `end` is opened again with
 * `Last-Event-ID`, after the server's `retry:` delay, so a restarted API or a flaky network loses
 * no metrics event.
 */
import type { ApiClient } from './client.js';
import { CliError } from './errors.js';

export interface StreamEvent {
  event: string;
  id?: string;
  data: unknown;
}

/** Events after which the server closes the stream on purpose. */
const FINAL_EVENTS = new Set(['end', 'error']);
const DEFAULT_RETRY_MS = 2_000;
const MAX_RECONNECTS = 10;

/** Splits a text stream into SSE blocks and parses each (comments and unknown fields are skipped). */
async function* parse(body: ReadableStream<Uint8Array>, onRetry: (ms: number) => void): AsyncGenerator<StreamEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon === 0) continue; // a comment (keep-alive)
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') id = value;
          else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
        }
        if (data.length > 0) yield { event, id, data: JSON.parse(data.join('\n')) as unknown };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

export async function* jobEvents(client: ApiClient, jobId: string, signal: AbortSignal): AsyncGenerator<StreamEvent> {
  let lastId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastId !== undefined) headers['last-event-id'] = lastId;
    let response: Response;
    try {
      response = await client.raw(`/jobs/${encodeURIComponent(jobId)}/events`, { headers, signal });
    } catch (error) {
      // 4xx (unknown job, bad key) will not get better; a network error may.
      if (signal.aborted || attempt >= MAX_RECONNECTS || !/cannot reach/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      continue;
    }
    try {
      for await (const event of parse(response.body!, (ms) => (retryMs = ms))) {
        if (event.id !== undefined) lastId = event.id;
        yield event;
        if (FINAL_EVENTS.has(event.event)) return;
      }
    } catch (error) {
      if (signal.aborted) throw error;
    }
    if (attempt >= MAX_RECONNECTS) throw new CliError(`the event stream of job ${jobId} kept dropping`);
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}
