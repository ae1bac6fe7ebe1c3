import { FLUSH_RUN_CHANNEL_PREFIX } from '../broadcast/flush-runner.interface.js';
import { isTransportUnavailable } from '../broadcast/flush-transport.interface.js';
import { FlushUnavailableError } from '../broadcast/flush-unavailable.error.js';
import { FlushValidationError } from '../flush-validation.error.js';
import { RUN_KEY_INVALID } from './flush-runs.messages.js';

/** A lease lapses this long after it was taken or renewed (a killed instance's runs stop counting). @internal */
export const LEASE_TTL_MS = 15_000;
/** The longest `ttlMs` of a run (a key TTL of the control plane). @internal */
export const MAX_TTL_MS = 86_400_000;
/** The lease every live run holds (`maxRuns` counts its holders). @internal */
export const RUNS_LEASE = 'runs';

const RUN_KEY = /^[A-Za-z0-9._\-:/@]{1,200}$/;

/** The hub channel of a run (also what the module's `authorize` rules see). @internal */
export const channelOf = (key: string): string => `${FLUSH_RUN_CHANNEL_PREFIX}${key}`;
/** The lease that makes a run's key live (one holder across instances). @internal */
export const liveLeaseOf = (key: string): string => `run:${key}`;
/** The lease of every stream attached to a run (for `runUnattendedStopMs`). @internal */
export const watchLeaseOf = (key: string): string => `run-watch:${key}`;

/** The key, or a `FlushValidationError` (400) for one that is not a run key. @internal */
export const assertRunKey = (key: unknown): string => {
  if (typeof key !== 'string' || !RUN_KEY.test(key))
    throw new FlushValidationError(RUN_KEY_INVALID(key));
  return key;
};

/** A transport outage becomes a 503 with `retryAfter`; anything else stays as it is. @internal */
export const toHubError = (err: unknown): unknown =>
  isTransportUnavailable(err) ? new FlushUnavailableError(undefined, { cause: err }) : err;

/** @internal */
export const messageOf = (err: unknown): string =>
  err instanceof Error ? err.message : String(err);
