import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { cleanPath, forEachTarEntry } from '../../nodeimage/tar-read.js';
import { streamToBuffer } from '../../util/archive.js';
import { KurError, messageOf } from '../../util/errors.js';

/**
 * A small client of the OCI distribution API that pushes an image from a docker-archive file
 * (what `POST /images/load` reads and `GET /images/get` writes) to a registry over plain HTTP:
 * each layer is streamed once from the archive into a blob upload (its digest computed on the
 * way), then the config, then an OCI manifest naming the layers uncompressed. It needs no engine,
 * so it reaches a registry on the host's 127.0.0.1 even when the engine runs in a rootless
 * network namespace, and holds no layer in memory.
 */
export interface PushArchiveOptions {
  /** A docker-archive tar holding one image (the first manifest entry is pushed). */
  file: string;
  /** Registry base URL, e.g. `http://127.0.0.1:5000`. */
  registry: string;
  /** Repository in the registry, e.g. `e2e/app`. */
  repository: string;
  tag: string;
  signal?: AbortSignal;
}

export interface PushedImage {
  /** `sha256:…` of the manifest: pull `<registry>/<repository>@<digest>` to get exactly this image. */
  digest: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export const ociManifestType = 'application/vnd.oci.image.manifest.v1+json';
const ociConfigType = 'application/vnd.oci.image.config.v1+json';
const ociLayerType = 'application/vnd.oci.image.layer.v1.tar';

interface ArchiveManifestEntry {
  Config: string;
  Layers: string[];
}

export async function pushImageArchive(options: PushArchiveOptions): Promise<PushedImage> {
  const client = new BlobClient(options);
  /** Archive path -> blob pushed from it. */
  const blobs = new Map<string, Descriptor>();
  const small = new Map<string, Buffer>();
  await forEachTarEntry(options.file, async (header, body) => {
    const path = cleanPath(header.name);
    if (header.type !== 'file') {
      body.resume();
      return;
    }
    // Layers are large: streamed straight into an upload. Everything else (manifest.json,
    // the config, `repositories`) is a few kilobytes.
    if (
      path.endsWith('/layer.tar') ||
      (path.startsWith('blobs/') && header.size !== undefined && header.size > 1 << 20)
    ) {
      blobs.set(path, await client.upload(body, ociLayerType));
    } else {
      small.set(path, await streamToBuffer(body));
    }
  });
  const entries = parseArchiveManifest(small.get('manifest.json'), options.file);
  const entry = entries[0]!;
  const configBytes = small.get(cleanPath(entry.Config));
  if (configBytes === undefined) throw archiveError(options.file, `its config ${entry.Config} is missing`);
  const config = await client.upload(Readable.from([configBytes]), ociConfigType);
  const layers = await Promise.all(
    entry.Layers.map(async (layerPath) => {
      const path = cleanPath(layerPath);
      const pushed = blobs.get(path);
      if (pushed !== undefined) return pushed;
      // A small layer (OCI layout archives name layers blobs/sha256/<hex>) was kept in memory.
      const bytes = small.get(path);
      if (bytes === undefined) throw archiveError(options.file, `its layer ${layerPath} is missing`);
      return client.upload(Readable.from([bytes]), ociLayerType);
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: ociManifestType, config, layers }),
  );
  await client.putManifest(options.tag, manifest);
  return { digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`, config, layers };
}

export function parseArchiveManifest(bytes: Buffer | undefined, file: string): ArchiveManifestEntry[] {
  if (bytes === undefined) throw archiveError(file, 'it has no manifest.json (not a docker-archive)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw archiveError(file, `its manifest.json does not parse: ${messageOf(error)}`);
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every(
      (e: unknown) =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as ArchiveManifestEntry).Config === 'string' &&
        Array.isArray((e as ArchiveManifestEntry).Layers) &&
        (e as ArchiveManifestEntry).Layers.every((l) => typeof l === 'string'),
    );
  if (!valid) throw archiveError(file, 'its manifest.json lists no image');
  return parsed as ArchiveManifestEntry[];
}

function archiveError(file: string, problem: string): KurError {
  return new KurError('usage', `cannot push ${file}: ${problem}`, {
    hint: "Give an image archive as `kur build node-image --archive` or the engine's image save writes it.",
  });
}

/** Blob uploads and the manifest PUT of one repository. */
class BlobClient {
  private readonly base: URL;

  constructor(private readonly o: PushArchiveOptions) {
    this.base = new URL(`/v2/${o.repository}/`, o.registry);
  }

  /** POST a new upload, stream the body into it (hashing it), PUT it closed with its digest. */
  async upload(body: Readable, mediaType: string): Promise<Descriptor> {
    const started = await this.request('POST', new URL('blobs/uploads/', this.base), undefined, [202]);
    const location = new URL(this.location(started), this.base);
    const hash = createHash('sha256');
    let size = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      }),
    );
    const patched = await this.request('PATCH', location, counted, [202]);
    const digest = `sha256:${hash.digest('hex')}`;
    const close = new URL(this.location(patched), this.base);
    close.searchParams.set('digest', digest);
    await this.request('PUT', close, undefined, [201]);
    return { mediaType, digest, size };
  }

  async putManifest(tag: string, manifest: Buffer): Promise<void> {
    await this.request('PUT', new URL(`manifests/${tag}`, this.base), manifest, [201], ociManifestType);
  }

  private location(response: Response): string {
    const location = response.headers.get('location');
    if (location === null) throw this.error('the registry gave no upload location', response.status, '');
    return location;
  }

  private async request(
    method: string,
    url: URL,
    body: Readable | Buffer | undefined,
    expected: number[],
    contentType = 'application/octet-stream',
  ): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': contentType },
        ...(body instanceof Readable
          ? { body: Readable.toWeb(body) as ReadableStream, duplex: 'half' }
          : body !== undefined
            ? { body }
            : {}),
        ...(this.o.signal !== undefined ? { signal: this.o.signal } : {}),
      });
    } catch (error) {
      throw new KurError('engine', `cannot reach the registry at ${this.o.registry}: ${messageOf(error)}`, {
        hint: 'Is it running? `kur get registries` lists local registries and their ports.',
      });
    }
    if (!expected.includes(response.status)) {
      throw this.error(`${method} ${url.pathname} failed`, response.status, await response.text());
    }
    await response.body?.cancel();
    return response;
  }

  private error(what: string, status: number, text: string): KurError {
    return new KurError(
      'engine',
      `pushing ${this.o.repository}:${this.o.tag} to ${this.o.registry}: ${what}`,
      {
        detail: `HTTP ${status} ${text}`.trim(),
      },
    );
  }
}
