import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** kur's version, from the package.json that ships with it. */
export function kurVersion(): string {
  if (cached === undefined) {
    const url = new URL('../package.json', import.meta.url);
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version: string };
    cached = pkg.version;
  }
  return cached;
}
