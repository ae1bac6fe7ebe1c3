import type { NestInterceptor, Type } from '@nestjs/common';
import type { ApplicationConfig, ModulesContainer } from '@nestjs/core';

/**
 * The pieces of Nest's `InstanceWrapper` nestjs-flush reads (not a public type, so typed
 * structurally here and checked at bootstrap by `checkNestInternals()`).
 * @internal
 */
export interface InstanceWrapperLike {
  instance?: unknown;
  metatype?: unknown;
  /** Made by `useFactory` (Nest: a metatype and an `inject` list). */
  readonly isFactory?: boolean;
  isDependencyTreeStatic?: () => boolean;
  getInstanceByContextId?: (...args: unknown[]) => { instance?: unknown } | undefined;
}

interface ModuleLike {
  injectables: Map<unknown, InstanceWrapperLike>;
  controllers: Map<unknown, InstanceWrapperLike>;
}

const isModuleLike = (value: unknown): value is ModuleLike =>
  !!value &&
  (value as ModuleLike).injectables instanceof Map &&
  (value as ModuleLike).controllers instanceof Map;

/** Every injectable (guards, interceptors, pipes... of every module) as Nest holds it. @internal */
export function* injectableWrappers(modules: ModulesContainer): Iterable<InstanceWrapperLike> {
  for (const module of modules.values() as Iterable<unknown>) {
    if (isModuleLike(module)) yield* module.injectables.values();
  }
}

/** Every controller class of every module. @internal */
export function* controllerClasses(modules: ModulesContainer): Iterable<Type> {
  for (const module of modules.values() as Iterable<unknown>) {
    if (!isModuleLike(module)) continue;
    for (const wrapper of module.controllers.values()) {
      const metatype = wrapper.metatype as Type | undefined;
      if (typeof metatype === 'function' && metatype.prototype) yield metatype;
    }
  }
}

/** A module as Nest holds it: its class and its providers' tokens. */
interface ModuleProvidersLike {
  metatype?: { name?: string };
  providers: Map<unknown, unknown>;
}

const isModuleProvidersLike = (value: unknown): value is ModuleProvidersLike =>
  !!value && (value as ModuleProvidersLike).providers instanceof Map;

/**
 * How many modules of an application provide `token`, and the names of the modules whose
 * `@Module({ imports })` list an entry `isImport` recognises (their import sites; a global
 * module is bound to every module, so Nest's own import sets cannot tell). `undefined` when
 * this Nest version holds modules differently (the caller then skips its check). @internal
 */
export const modulesProviding = (
  modules: ModulesContainer,
  token: unknown,
  isImport: (entry: unknown) => boolean,
): { count: number; importers: string[] } | undefined => {
  const all = [...(modules.values() as Iterable<unknown>)];
  if (!all.every(isModuleProvidersLike)) return undefined;
  const importers = new Set<string>();
  for (const module of all) {
    const metatype = module.metatype;
    if (typeof metatype !== 'function') continue;
    // 'imports' is MODULE_METADATA.IMPORTS, what @Module() stores.
    const imports = Reflect.getMetadata('imports', metatype) as unknown[] | undefined;
    if (imports?.some(isImport)) importers.add(metatype.name ?? '(anonymous module)');
  }
  return {
    count: all.filter(module => module.providers.has(token)).length,
    importers: [...importers],
  };
};

/** Hooks called when interceptors are registered globally. @internal */
export interface GlobalInterceptorHooks {
  onGlobal(interceptor: NestInterceptor): void;
  onGlobalRequestScoped(wrapper: InstanceWrapperLike): void;
}

type ConfigMethods = Pick<
  ApplicationConfig,
  'addGlobalInterceptor' | 'useGlobalInterceptors' | 'addGlobalRequestInterceptor'
>;

/**
 * Calls `hooks` for every global interceptor registered from now on (`useGlobalInterceptors()`,
 * static and request-scoped `APP_INTERCEPTOR`), by wrapping three public methods of this
 * application's `ApplicationConfig` instance (its own properties: nothing process-wide).
 * Returns the function that restores them.
 * @internal
 */
export const watchGlobalInterceptors = (
  config: ApplicationConfig,
  hooks: GlobalInterceptorHooks,
): (() => void) => {
  const target = config as ConfigMethods;
  const original: ConfigMethods = {
    addGlobalInterceptor: target.addGlobalInterceptor,
    useGlobalInterceptors: target.useGlobalInterceptors,
    addGlobalRequestInterceptor: target.addGlobalRequestInterceptor,
  };
  target.addGlobalInterceptor = function (interceptor: NestInterceptor) {
    original.addGlobalInterceptor.call(config, interceptor);
    hooks.onGlobal(interceptor);
  };
  target.useGlobalInterceptors = function (...interceptors: NestInterceptor[]) {
    original.useGlobalInterceptors.apply(config, interceptors);
    for (const interceptor of interceptors) hooks.onGlobal(interceptor);
  };
  target.addGlobalRequestInterceptor = function (wrapper) {
    original.addGlobalRequestInterceptor.call(config, wrapper);
    hooks.onGlobalRequestScoped(wrapper as unknown as InstanceWrapperLike);
  } as ConfigMethods['addGlobalRequestInterceptor'];
  return () => {
    Object.assign(target, original);
    // They were prototype methods: drop the own copies again.
    for (const name of Object.keys(original) as (keyof ConfigMethods)[]) {
      if ((Object.getPrototypeOf(config) as ConfigMethods)[name] === original[name])
        delete target[name];
    }
  };
};

/** Global interceptors registered so far (instances, and request-scoped wrappers). @internal */
export const globalInterceptors = (
  config: ApplicationConfig,
): { instances: NestInterceptor[]; requestScoped: InstanceWrapperLike[] } => ({
  instances: [...config.getGlobalInterceptors()],
  requestScoped: [...(config.getGlobalRequestInterceptors() as unknown as InstanceWrapperLike[])],
});

/**
 * The class Nest instantiates for a provider (`useClass` or a plain class), or `undefined` for a
 * factory (`useFactory`: its `metatype` is the factory function) or a value (`useValue`).
 * @internal
 */
export const providerClass = (wrapper: InstanceWrapperLike): Type | undefined => {
  // A factory provider's metatype is the factory function, not a class.
  if (wrapper.isFactory) return undefined;
  const metatype = wrapper.metatype as Type | undefined;
  return typeof metatype === 'function' && metatype.prototype ? metatype : undefined;
};

/**
 * Whether Nest creates a provider per request or per consumer (request or transient scope,
 * its own or a dependency's): a false `isDependencyTreeStatic()`.
 * @internal
 */
export const isCreatedPerRequest = (wrapper: InstanceWrapperLike): boolean =>
  wrapper.isDependencyTreeStatic?.() === false;

/** The one instance of a static provider, once Nest created it. @internal */
export const staticInstance = (wrapper: InstanceWrapperLike): unknown => wrapper.instance;

// Marks a getInstanceByContextId replaced by watchRequestScopedInstances (also for another copy
// of nestjs-flush in the process, hence Symbol.for).
const WATCHED = Symbol.for('nestjs-flush:request-scoped-watch');

/**
 * A request-scoped interceptor made by a factory has no class to wrap: each per-request
 * instance is handed to `onInstance` as Nest resolves it (`getInstanceByContextId`). Returns the
 * function that restores it, or `undefined` when this Nest version has no such method or the
 * wrapper is already watched (a second call is a no-op).
 * @internal
 */
export const watchRequestScopedInstances = (
  wrapper: InstanceWrapperLike,
  onInstance: (instance: unknown) => void,
): (() => void) | undefined => {
  const resolve = wrapper.getInstanceByContextId;
  if (typeof resolve !== 'function' || WATCHED in resolve) return undefined;
  const watched = (...args: unknown[]) => {
    const host = resolve.apply(wrapper, args);
    if (host?.instance) onInstance(host.instance);
    return host;
  };
  Object.defineProperty(watched, WATCHED, { value: true });
  wrapper.getInstanceByContextId = watched;
  return () => {
    wrapper.getInstanceByContextId = resolve;
  };
};

/**
 * Checks, at bootstrap, that every Nest internal nestjs-flush relies on has the shape it
 * expects. Returns what is missing (empty when all is well).
 * @internal
 */
export const checkNestInternals = (
  config: ApplicationConfig,
  modules: ModulesContainer,
): string[] => {
  const problems: string[] = [];
  const methods = [
    'addGlobalInterceptor',
    'useGlobalInterceptors',
    'addGlobalRequestInterceptor',
    'getGlobalInterceptors',
    'getGlobalRequestInterceptors',
  ] as const;
  for (const name of methods) {
    if (typeof (config as unknown as Record<string, unknown>)[name] !== 'function') {
      problems.push(`ApplicationConfig.${name}()`);
    }
  }
  let sawModule = false;
  for (const module of modules.values() as Iterable<unknown>) {
    sawModule = true;
    if (!isModuleLike(module)) {
      problems.push('Module.injectables / Module.controllers (Maps of InstanceWrapper)');
      break;
    }
    for (const wrapper of module.injectables.values()) {
      if (
        typeof wrapper !== 'object' ||
        wrapper === null ||
        !('metatype' in wrapper) ||
        !('instance' in wrapper) ||
        !('isFactory' in wrapper) ||
        typeof wrapper.isDependencyTreeStatic !== 'function' ||
        typeof wrapper.getInstanceByContextId !== 'function'
      ) {
        problems.push(
          'InstanceWrapper.metatype / instance / isFactory / isDependencyTreeStatic() / getInstanceByContextId()',
        );
        break;
      }
    }
  }
  if (!sawModule) problems.push('ModulesContainer entries');
  return problems;
};
