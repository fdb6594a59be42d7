// InvokeWithResponseStream's answer body: AWS event-stream messages (a prelude with the total
// and headers lengths and its CRC32, typed headers, the payload, the message's CRC32), made
// with the codec the AWS SDK decodes them with. Its events: PayloadChunk (the raw bytes, the
// event's payload) and InvokeComplete (JSON of the member fields).
import { EventStreamCodec } from '@smithy/core/event-streams';

/** The answer's Content-Type, which the SDK reports as ResponseStreamContentType. */
export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

/** InvokeComplete's members (InvokeWithResponseStreamCompleteEvent); absent ones are left out. */
export interface InvokeComplete {
  ErrorCode?: string;
  ErrorDetails?: string;
  /** The call's last 4 KB of log, base64. */
  LogResult?: string;
}

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text) => Buffer.from(text, 'utf8'),
);

/** One event message: `:message-type` event, the event's type, its payload's content type. */
function event(type: string, contentType: string, body: Uint8Array): Buffer {
  const bytes = codec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: contentType },
    },
    body,
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A PayloadChunk event carrying these bytes of the function's answer. */
export const payloadChunk = (bytes: Uint8Array): Buffer => event('PayloadChunk', 'application/octet-stream', bytes);

/** The InvokeComplete event that ends the stream. */
export const invokeComplete = (c: InvokeComplete): Buffer => event('InvokeComplete', 'application/json', Buffer.from(JSON.stringify(c)));
