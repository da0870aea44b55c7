/**
 * GET /jobs/:id/events read with fetch and a stream reader: EventSource cannot send the
 * Authorization header, and the key must not go into the URL. Parses the text/event-stream
 * format (event:/data: lines, blank line ends an event) and hands each event on, parsed.
 */
import { ApiError } from './api';
import { authHeaders } from './session';

export type EventHandler = (event: string, data: unknown) => void;

/** Resolves when the server ends the stream (after `end`) or `signal` aborts it. */
export async function followEvents(path: string, onEvent: EventHandler, signal: AbortSignal): Promise<void> {
  const response = await fetch(path, { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal });
  if (!response.ok || !response.body) throw new ApiError(response.status, `event stream answered ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end), onEvent);
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  } finally {
    reader.releaseLock();
  }
}

function dispatch(block: string, onEvent: EventHandler): void {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return;
  const text = data.join('\n');
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain text data: hand it on as is
  }
  onEvent(event, parsed);
}
