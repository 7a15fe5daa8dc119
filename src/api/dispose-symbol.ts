/**
 * `Symbol.asyncDispose` exists on every Node.js kur supports (20.4 and later define it), but
 * other runtimes may lack it. TypeScript's downlevelled `await using` reads `Symbol.asyncDispose`
 * at run time, so a missing one is defined here, the way TypeScript's docs suggest, before any
 * class that implements it is evaluated.
 */
const symbols = Symbol as { asyncDispose?: symbol; dispose?: symbol };
symbols.asyncDispose ??= Symbol.for('Symbol.asyncDispose');
symbols.dispose ??= Symbol.for('Symbol.dispose');

export {};
