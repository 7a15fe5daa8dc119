import { streamedError } from './api-mapping.js';
import { asRecord, num, str } from './json.js';
import type { TransferProgress } from './types.js';

interface LayerState {
  current: number;
  total: number;
  done: boolean;
}

/** Statuses that name a layer (other lines with an id name a tag or an image). */
const layerStatus =
  /^(Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete|Extracting|Pull complete|Already exists|Preparing|Pushing|Pushed|Layer already exists|Mounted from .*)$/;
const doneStatus = /^(Pull complete|Already exists|Pushed|Layer already exists|Mounted from .*)$/;

/**
 * The progress of a pull or push as the engine streams it: one JSON object per line, with a
 * layer id, a status ("Downloading", "Pushed", ...) and byte counts (Docker), or a line per blob
 * (Podman's own API). Summed up so a person sees "3/7 layers, 120 of 530 MB" instead of one line
 * per layer.
 */
export class TransferTracker {
  private readonly layers = new Map<string, LayerState>();
  /** The manifest digest the engine reported (pull: "Digest: …", push: "<tag>: digest: … size: …"). */
  digest: string | undefined;
  /** The last error the engine reported in the stream (it answers 200 and fails inside it). */
  error: string | undefined;

  /** Reads one line of the stream; true when the summary changed. */
  feed(line: string): boolean {
    if (line.trim() === '') return false;
    let record: Record<string, unknown>;
    try {
      record = asRecord(JSON.parse(line)) ?? {};
    } catch {
      return false;
    }
    const failure = streamedError(record);
    if (failure !== '') {
      this.error = failure;
      return false;
    }
    // Podman's own API: text lines, one per blob it copies, and a manifest written at the end.
    const stream = str(record.stream);
    const blob = /^Copying blob (?:sha256:)?([0-9a-f]+)/.exec(stream)?.[1];
    if (blob !== undefined) {
      const layer = this.layers.get(blob) ?? { current: 0, total: 0, done: false };
      this.layers.set(blob, layer);
      return true;
    }
    if (stream.startsWith('Writing manifest')) {
      for (const layer of this.layers.values()) layer.done = true;
      return true;
    }
    if (str(record.manifestdigest) !== '') this.digest = str(record.manifestdigest);
    const status = str(record.status);
    const digest =
      /(?:^|\s)[Dd]igest: (sha256:[0-9a-f]{64})/.exec(status)?.[1] ?? str(asRecord(record.aux)?.Digest);
    if (digest !== '') this.digest = digest;
    const id = str(record.id);
    if (id === '' || !layerStatus.test(status)) return false;
    const layer = this.layers.get(id) ?? { current: 0, total: 0, done: false };
    const detail = asRecord(record.progressDetail);
    const total = num(detail?.total);
    const current = num(detail?.current);
    if (total > 0) layer.total = total;
    if (current > 0) layer.current = Math.max(layer.current, current);
    if (status === 'Download complete') layer.current = layer.total;
    if (doneStatus.test(status)) {
      layer.done = true;
      layer.current = layer.total;
    }
    this.layers.set(id, layer);
    return true;
  }

  progress(): TransferProgress {
    const all = [...this.layers.values()];
    return {
      layers: all.length,
      layersDone: all.filter((l) => l.done).length,
      bytes: all.reduce((sum, l) => sum + Math.min(l.current, l.total), 0),
      totalBytes: all.reduce((sum, l) => sum + l.total, 0),
    };
  }
}

const megabyte = 1024 * 1024;

/** "3/7 layers, 120.4 of 530.2 MB" (bytes left out until the engine has reported sizes). */
export function formatTransfer(p: TransferProgress): string {
  const layers = `${p.layersDone}/${p.layers} layers`;
  if (p.totalBytes === 0) return layers;
  return `${layers}, ${(p.bytes / megabyte).toFixed(1)} of ${(p.totalBytes / megabyte).toFixed(1)} MB`;
}
