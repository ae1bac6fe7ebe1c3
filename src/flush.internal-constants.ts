/**
 * Internal metadata keys and tokens. Not exported from the package root.
 * @internal
 */
export const FLUSH_STREAM_METADATA = 'FLUSH:STREAM';
/** @internal */
export const FLUSH_STREAM_SAFE_METADATA = 'FLUSH:STREAM_SAFE';
/** @internal */
export const FLUSH_SKIP_INTERCEPTORS_METADATA = 'FLUSH:SKIP_INTERCEPTORS';
/** @internal */
export const FLUSH_RESOLVED_OPTIONS = Symbol('FLUSH:RESOLVED_OPTIONS');
/** @internal Per-request streaming context (AbortSignal, writer) stored on the raw request. */
export const FLUSH_REQUEST_CONTEXT = Symbol.for('nestjs-flush:request-context');
/** @internal Marks an interceptor `intercept` function that nestjs-flush wrapped. */
export const FLUSH_WRAPPED = Symbol.for('nestjs-flush:wrapped');
/** @internal Pre-encoded SSE frame carried by hub events (encode once, write many). */
export const FLUSH_FRAME = Symbol.for('nestjs-flush:frame');
/**
 * @internal Injection token of the control plane in use: the transport's `control`, or one in
 * memory when the transport has none.
 */
export const FLUSH_CONTROL_PLANE = Symbol('FLUSH:CONTROL_PLANE');
