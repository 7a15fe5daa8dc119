/**
 * Splits the Engine API's multiplexed stream (exec and logs without a TTY): frames of an 8-byte
 * header (stream byte 1 = stdout, 2 = stderr; 3 zero bytes; big-endian length) and a payload.
 * A stream that does not start with such a header (a TTY container's logs) is passed through as
 * stdout. Chunks may split or join frames anywhere.
 */
export type OutputStream = 'stdout' | 'stderr';

export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  private mode: 'unknown' | 'frames' | 'raw' = 'unknown';

  constructor(private readonly emit: (stream: OutputStream, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.mode === 'raw') {
      this.emit('stdout', chunk);
      return;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.mode === 'unknown') {
      if (this.pending.length < 4) return;
      if (!looksLikeHeader(this.pending)) {
        this.mode = 'raw';
        const data = this.pending;
        this.pending = Buffer.alloc(0);
        this.emit('stdout', data);
        return;
      }
      this.mode = 'frames';
    }
    while (this.pending.length >= 8) {
      const kind = this.pending[0];
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) break;
      const payload = this.pending.subarray(8, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      // Stream 0 (stdin echo) does not occur without a TTY; count it as stdout rather than drop it.
      if (payload.length > 0) this.emit(kind === 2 ? 'stderr' : 'stdout', payload);
    }
  }

  /** Call when the source ended; returns the bytes of an incomplete trailing frame, if any. */
  end(): Buffer {
    if (this.mode === 'unknown' && this.pending.length > 0) {
      // Too short to be a header: it was raw output.
      this.emit('stdout', this.pending);
      this.pending = Buffer.alloc(0);
    }
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }
}

function looksLikeHeader(data: Buffer): boolean {
  const kind = data[0];
  return (kind === 0 || kind === 1 || kind === 2) && data[1] === 0 && data[2] === 0 && data[3] === 0;
}

/** Builds one frame; for tests and fakes. */
export function frame(stream: OutputStream, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}
