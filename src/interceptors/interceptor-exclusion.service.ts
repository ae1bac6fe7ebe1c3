import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnApplicationBootstrap,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import {
  FLUSH_RESOLVED_OPTIONS,
  FLUSH_WRAPPED,
  NEST_INTERCEPTORS_METADATA,
  NEST_SSE_METADATA,
} from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { getSkipRule, getStreamKind, isStreamSafe } from './flush-metadata.accessor.js';
import { FLUSH_SSE_INTERCEPTOR } from './flush-sse.interceptor.js';

type Scope = 'global' | 'local';
type Intercept = NestInterceptor['intercept'];
type AnyFn = (...args: never[]) => unknown;

/** Per wrapped interceptor (instance or class): where it was registered and its decisions per route. */
interface WrapState {
  scope: Scope;
  decide: (ctx: ExecutionContext, scope: Scope) => boolean;
  readonly routes: WeakMap<object, { controller: object; bypass: boolean }>;
}

/** The pieces of Nest's InstanceWrapper this service reads (structural: not a public type). */
interface InstanceWrapperLike {
  instance?: unknown;
  metatype?: unknown;
  inject?: unknown;
  isDependencyTreeStatic?: () => boolean;
  getInstanceByContextId?: (...args: unknown[]) => { instance?: unknown } | undefined;
}

interface ModuleLike {
  injectables: Map<unknown, InstanceWrapperLike>;
  controllers: Map<unknown, InstanceWrapperLike>;
}

const CONFIG_PATCHED = Symbol.for('nestjs-flush:config-patched');

const wrapIntercept = (original: Intercept, state: WrapState): Intercept => {
  const wrapped = function (this: NestInterceptor, ctx: ExecutionContext, next: CallHandler) {
    // One string compare and one WeakMap lookup per call; the decision itself is made once per route.
    if (ctx.getType() === 'http') {
      const handler = ctx.getHandler();
      const controller = ctx.getClass();
      let route = state.routes.get(handler);
      if (!route || route.controller !== controller) {
        route = { controller, bypass: state.decide(ctx, state.scope) };
        state.routes.set(handler, route);
      }
      if (route.bypass) return next.handle();
    }
    return original.call(this, ctx, next);
  };
  Object.defineProperty(wrapped, FLUSH_WRAPPED, { value: state });
  return wrapped;
};

const stateOf = (fn: unknown): WrapState | undefined =>
  typeof fn === 'function'
    ? ((fn as unknown as Record<symbol, WrapState>)[FLUSH_WRAPPED] ?? undefined)
    : undefined;

/**
 * Makes interceptors leave streaming routes alone without touching their code: every interceptor
 * instance Nest will call (global ones from `useGlobalInterceptors()` and static `APP_INTERCEPTOR`,
 * local ones from `@UseInterceptors()`) gets its `intercept` wrapped; request-scoped ones get it
 * wrapped on their class prototype. The wrapper calls `next.handle()` directly on a streaming route
 * when the route's rule says so. Wrapping objects (not editing `ApplicationConfig` arrays) is what
 * works for static routes, whose interceptor lists are captured in `registerRouter()` before
 * `onModuleInit`. It also attaches FlushSseInterceptor to each `@Sse()` route.
 * @internal
 */
@Injectable()
export class FlushInterceptorExclusion implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('FlushModule');

  constructor(
    private readonly config: ApplicationConfig,
    private readonly modules: ModulesContainer,
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
  ) {
    // Runs while providers are instantiated, before app.init() registers routes.
    this.patchConfig();
    this.sweep();
  }

  onModuleInit(): void {
    this.sweep();
  }

  onApplicationBootstrap(): void {
    this.sweep();
  }

  /** Whether the interceptor must be bypassed on this route (computed once per route). */
  private readonly decide = (ctx: ExecutionContext, scope: Scope): boolean => {
    const handler = ctx.getHandler() as AnyFn;
    if (!getStreamKind(handler)) return false;
    const rule = getSkipRule(handler, ctx.getClass(), this.options.skipInterceptors);
    return rule === 'all' || (rule === 'global' && scope === 'global');
  };

  private patchConfig(): void {
    const config = this.config as ApplicationConfig & Record<symbol, boolean>;
    if (config[CONFIG_PATCHED]) return;
    config[CONFIG_PATCHED] = true;
    const addGlobal = config.addGlobalInterceptor.bind(config);
    const useGlobal = config.useGlobalInterceptors.bind(config);
    const addRequest = config.addGlobalRequestInterceptor.bind(config);
    config.addGlobalInterceptor = (interceptor: NestInterceptor) => {
      addGlobal(interceptor);
      this.wrapInstance(interceptor, 'global');
    };
    config.useGlobalInterceptors = (...interceptors: NestInterceptor[]) => {
      useGlobal(...interceptors);
      for (const interceptor of interceptors) this.wrapInstance(interceptor, 'global');
    };
    config.addGlobalRequestInterceptor = (wrapper => {
      addRequest(wrapper);
      this.wrapRequestScoped(wrapper as InstanceWrapperLike);
    }) as typeof config.addGlobalRequestInterceptor;
  }

  /** Wraps every interceptor known now; idempotent. */
  private sweep(): void {
    for (const interceptor of this.config.getGlobalInterceptors())
      this.wrapInstance(interceptor, 'global');
    for (const wrapper of this.config.getGlobalRequestInterceptors() as InstanceWrapperLike[]) {
      this.wrapRequestScoped(wrapper);
    }
    for (const module of this.modules.values() as IterableIterator<unknown> as Iterable<ModuleLike>) {
      for (const wrapper of module.injectables.values()) {
        const metatype = wrapper.metatype as Type | undefined;
        if (
          !metatype?.prototype ||
          typeof metatype.prototype.intercept !== 'function' ||
          wrapper.inject
        )
          continue;
        if (wrapper.isDependencyTreeStatic?.() === false) this.wrapClass(metatype, 'local');
        else if (wrapper.instance) this.wrapInstance(wrapper.instance as NestInterceptor, 'local');
      }
      for (const wrapper of module.controllers.values())
        this.visitController(wrapper.metatype as Type | undefined);
    }
  }

  /** Interceptor instances in `@UseInterceptors(new X())`, and FlushSseInterceptor on `@Sse()` routes. */
  private visitController(controller: Type | undefined): void {
    if (!controller?.prototype) return;
    this.wrapListed(controller);
    const seen = new Set<string>();
    for (
      let proto = controller.prototype as object | null;
      proto && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor' || seen.has(name)) continue;
        seen.add(name);
        const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
        if (typeof handler !== 'function') continue;
        this.wrapListed(handler);
        if (Reflect.getMetadata(NEST_SSE_METADATA, handler)) this.attachSse(handler);
      }
    }
  }

  private wrapListed(target: object): void {
    const listed = Reflect.getMetadata(NEST_INTERCEPTORS_METADATA, target) as unknown[] | undefined;
    for (const item of listed ?? []) {
      if (
        item &&
        typeof item === 'object' &&
        typeof (item as NestInterceptor).intercept === 'function'
      ) {
        this.wrapInstance(item as NestInterceptor, 'local');
      }
    }
  }

  private attachSse(handler: object): void {
    const listed =
      (Reflect.getOwnMetadata(NEST_INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];
    if (listed.includes(FLUSH_SSE_INTERCEPTOR)) return;
    // Innermost (last), so it sees the handler's events and errors first.
    Reflect.defineMetadata(NEST_INTERCEPTORS_METADATA, [...listed, FLUSH_SSE_INTERCEPTOR], handler);
  }

  private wrapInstance(interceptor: NestInterceptor | undefined, scope: Scope): void {
    if (!interceptor || typeof interceptor.intercept !== 'function') return;
    if (isStreamSafe(interceptor.constructor)) return;
    const existing = stateOf(interceptor.intercept);
    if (existing) {
      if (scope === 'global') existing.scope = 'global';
      return;
    }
    const state: WrapState = { scope, decide: this.decide, routes: new WeakMap() };
    try {
      Object.defineProperty(interceptor, 'intercept', {
        value: wrapIntercept(interceptor.intercept, state),
        writable: true,
        configurable: true,
      });
    } catch {
      this.logger.warn(
        `Cannot wrap ${interceptor.constructor?.name ?? 'an interceptor'} (frozen object): it also runs on streaming routes.`,
      );
    }
  }

  /**
   * A request-scoped global interceptor: its class prototype is wrapped; one made by a factory
   * (`useFactory`, no class to wrap) has each per-request instance wrapped as Nest resolves it.
   */
  private wrapRequestScoped(wrapper: InstanceWrapperLike): void {
    const proto = (wrapper.metatype as Type | undefined)?.prototype as
      Record<string, unknown> | undefined;
    if (!wrapper.inject && proto && typeof proto.intercept === 'function') {
      return this.wrapClass(wrapper.metatype, 'global');
    }
    const resolve = wrapper.getInstanceByContextId;
    if (typeof resolve !== 'function' || stateOf(resolve)) return;
    const wrapped = (...args: unknown[]) => {
      const host = resolve.apply(wrapper, args);
      if (host?.instance) this.wrapInstance(host.instance as NestInterceptor, 'global');
      return host;
    };
    Object.defineProperty(wrapped, FLUSH_WRAPPED, { value: true });
    wrapper.getInstanceByContextId = wrapped;
  }

  /** Request-scoped interceptors are created per request: their class prototype is wrapped. */
  private wrapClass(metatype: unknown, scope: Scope): void {
    const proto = (metatype as Type | undefined)?.prototype as Record<string, unknown> | undefined;
    if (!proto || typeof proto.intercept !== 'function' || isStreamSafe(metatype as object)) return;
    const existing = Object.prototype.hasOwnProperty.call(proto, 'intercept')
      ? stateOf(proto.intercept)
      : undefined;
    if (existing) {
      if (scope === 'global') existing.scope = 'global';
      existing.decide = this.decide;
      return;
    }
    const state: WrapState = { scope, decide: this.decide, routes: new WeakMap() };
    Object.defineProperty(proto, 'intercept', {
      value: wrapIntercept(proto.intercept as Intercept, state),
      writable: true,
      configurable: true,
    });
  }
}
