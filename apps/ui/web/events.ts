/**
 * GET /jobs/:id/events read with fetch and a stream reader: EventSource cannot send the
 * Authorization header, and the key must not go into the URL. Parses the text/event-stream
 * format with eventsource-parser and hands each event on, its data parsed.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { ApiError } from './api.js';
import { authHeaders } from './session.js';

export type EventHandler = (event: string, data: unknown) => void;

/** Resolves when the server ends the stream (after `end`) or `signal` aborts it. */
export async function followEvents(path: string, onEvent: EventHandler, signal: AbortSignal): Promise<void> {
  const response = await fetch(path, { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal });
  if (!response.ok || !response.body) throw new ApiError(response.status, `event stream answered ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onEvent(value.event ?? 'message', parseData(value.data));
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** JSON data parsed; plain text data handed on as is. */
function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
