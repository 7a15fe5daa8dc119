// The library entry point: `import { ... } from 'kur'`.
export { KurError, exitCodes, type ErrorKind } from './util/errors.js';
export { kurVersion } from './version.js';
