import { FlushConfigurationError } from '../flush.errors.js';
import { PROM_CLIENT_MISSING } from './flush-prometheus.messages.js';

/** What nestjs-flush uses of prom-client. @internal */
export type PromClient = typeof import('prom-client');

/**
 * prom-client, loaded on demand at bootstrap: a FlushConfigurationError naming the package to
 * install when it is missing (the root entry point never loads it). @internal
 */
export const loadPromClient = async (): Promise<PromClient> => {
  // A variable specifier: no static import, so prom-client stays optional for bundlers.
  const specifier = 'prom-client';
  let mod: Partial<PromClient> & { default?: Partial<PromClient> };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (err) {
    throw new FlushConfigurationError(PROM_CLIENT_MISSING((err as Error).message), { cause: err });
  }
  const prom = typeof mod.Counter === 'function' ? mod : mod.default;
  if (typeof prom?.Counter !== 'function' || typeof prom.Registry !== 'function')
    throw new FlushConfigurationError(PROM_CLIENT_MISSING('no Counter and Registry exports'));
  return prom as PromClient;
};
