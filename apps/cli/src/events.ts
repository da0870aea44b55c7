/**
 * A reader of the API's Server-Sent Events (GET /jobs/:id/events) over fetch: yields each event as
 * it arrives. A connection that drops before the stream's `end` is opened again with
 * `Last-Event-ID`, after the server's `retry:` delay, so a restarted API or a flaky network loses
 * no metrics event.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
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

/** The stream's events, parsed (eventsource-parser: comments skipped, `retry:` handed to onRetry). */
async function* parse(body: ReadableStream<Uint8Array>, onRetry: (ms: number) => void): AsyncGenerator<StreamEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream({ onRetry })).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield { event: value.event ?? 'message', id: value.id, data: JSON.parse(value.data) as unknown };
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
