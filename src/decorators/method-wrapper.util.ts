type AnyFn = (...args: unknown[]) => unknown;

/**
 * Replaces a method with `wrap(original)`, carrying over the metadata other decorators put on
 * the original function (route path, method, guards...), its name and its length.
 * @internal
 */
export const wrapMethod = (
  descriptor: PropertyDescriptor,
  wrap: (original: AnyFn) => AnyFn,
): void => {
  const original = descriptor.value as AnyFn;
  const wrapped = wrap(original);
  for (const key of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), wrapped);
  }
  Object.defineProperty(wrapped, 'name', { value: original.name });
  Object.defineProperty(wrapped, 'length', { value: original.length });
  descriptor.value = wrapped;
};
