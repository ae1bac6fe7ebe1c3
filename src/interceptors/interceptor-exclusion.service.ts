import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import { FlushMetrics } from '../flush.metrics.js';
import { NEST_INTERNALS_CHANGED } from '../flush.messages.js';
import type { FlushSkipMode, ResolvedFlushOptions } from '../flush-module-options.interface.js';
import {
  checkNestInternals,
  controllerClasses,
  globalInterceptors,
  injectableWrappers,
  isCreatedPerRequest,
  providerClass,
  staticInstance,
  watchGlobalInterceptors,
  watchRequestScopedInstances,
  type InstanceWrapperLike,
} from '../nest-compat/nest-container.compat.js';
import { checkNestMetadata, getListedInterceptors } from '../nest-compat/nest-metadata.compat.js';
import {
  adoptStreamingRoutes,
  releaseStreamingRoutes,
  setAppGlobals,
} from '../nest-compat/streaming-route.registry.js';
import { getSkipRule, isStreamSafe } from './flush-metadata.accessor.js';
import { registerApp, unregisterApp, type FlushAppContext } from './flush-stream.state.js';
import { FlushInterceptor } from './flush.interceptor.js';
import {
  runsOn,
  stateOf,
  wrapIntercept,
  type Intercept,
  type WrapState,
} from './interceptor-wrap.js';
import { STREAMING_ROUTE_ADAPTER } from './streaming-route.adapter.js';

type AnyFn = (...args: never[]) => unknown;

/** The class of a provider whose instances are interceptors (an `intercept` method), if any. */
const interceptorClass = (wrapper: InstanceWrapperLike): Type<NestInterceptor> | undefined => {
  const type = providerClass(wrapper);
  const proto = type?.prototype as Partial<NestInterceptor> | undefined;
  return typeof proto?.intercept === 'function' ? type : undefined;
};

/**
 * Makes interceptors leave streaming routes alone without touching their code, and serves
 * `@Sse()` routes with nestjs-flush's writer. Every interceptor Nest will call gets its
 * `intercept` wrapped (instances for static ones, the class prototype for request-scoped ones);
 * on a streaming route the wrapper calls `next.handle()` directly unless the application's rule
 * lets the interceptor run, and then only inside FlushInterceptor (see
 * `adoptStreamingRoutes()`). Every decision is made per application (two apps in one process
 * follow their own rules), and what was changed is undone on `app.close()`. Nest internals are
 * reached only through `src/nest-compat/`, checked here at bootstrap.
 * @internal
 */
@Injectable()
export class FlushInterceptorExclusion
  implements FlushAppContext, OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('FlushModule');
  private readonly rules = new WeakMap<object, { controller: object; rule: FlushSkipMode }>();
  private readonly globals: object[] = [];
  private readonly undo: (() => void)[] = [];
  private server: object | undefined;
  /** What is missing of the Nest internals the exclusion relies on (empty when all is well). */
  readonly problems: readonly string[];

  constructor(
    private readonly config: ApplicationConfig,
    private readonly modules: ModulesContainer,
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    private readonly interceptor: FlushInterceptor,
    private readonly adapterHost: HttpAdapterHost,
    metrics: FlushMetrics,
  ) {
    this.problems = [...checkNestInternals(config, modules), ...checkNestMetadata()];
    metrics.nestInternalsMissing = this.problems;
    if (this.problems.length > 0) {
      // Never silent: one clear error, and FlushMetrics.snapshot().nestInternalsMissing.
      this.logger.error(NEST_INTERNALS_CHANGED(this.problems));
      return;
    }
    // Runs while providers are instantiated, before app.init() registers the routes.
    this.undo.push(
      watchGlobalInterceptors(config, {
        onGlobal: interceptor => this.addGlobal(interceptor),
        onGlobalRequestScoped: wrapper => this.wrapRequestScoped(wrapper),
      }),
    );
    this.sweep();
  }

  onModuleInit(): void {
    if (this.problems.length === 0) this.sweep();
  }

  onApplicationBootstrap(): void {
    if (this.problems.length === 0) this.sweep();
    // Registered also without the exclusion: @Flush() routes still stream.
    this.server = this.adapterHost.httpAdapter?.getHttpServer?.() as object | undefined;
    if (this.server) registerApp(this.server, this);
  }

  onApplicationShutdown(): void {
    unregisterApp(this.server, this);
    releaseStreamingRoutes(this, STREAMING_ROUTE_ADAPTER);
    for (const undo of this.undo.splice(0).reverse()) undo();
  }

  ruleFor(handler: object, controller: object): FlushSkipMode {
    const known = this.rules.get(handler);
    if (known && known.controller === controller) return known.rule;
    const rule = getSkipRule(handler as AnyFn, controller as Type, this.options.skipInterceptors);
    this.rules.set(handler, { controller, rule });
    return rule;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return this.interceptor.intercept(context, next, this);
  }

  isGlobal(interceptor: object): boolean {
    return this.globals.includes(interceptor);
  }

  isForeignGlobal(interceptor: object): boolean {
    const state = stateOf((interceptor as NestInterceptor).intercept);
    return !!state && state.globalIn.size > 0 && !state.globalIn.has(this);
  }

  /** Whether an entry of a route's inner list would run for this application. @internal */
  runsInside(entry: unknown, handler: object, controller: object): boolean {
    if (!entry) return false;
    if (typeof entry === 'function') {
      const proto = (entry as Type).prototype as Record<string, unknown> | undefined;
      const state = stateOf(proto?.intercept);
      if (state) return runsOn(state, this, handler, controller);
      // A class Nest resolves to a wrapped instance of this module: local.
      return isStreamSafe(entry) || this.ruleFor(handler, controller) !== 'all';
    }
    const state = stateOf((entry as NestInterceptor).intercept);
    return state ? runsOn(state, this, handler, controller) : true;
  }

  private addGlobal(interceptor: NestInterceptor): void {
    this.wrapInstance(interceptor, true);
    if (!this.globals.includes(interceptor)) this.globals.push(interceptor);
    setAppGlobals(this, this.globals, STREAMING_ROUTE_ADAPTER);
  }

  /** Wraps every interceptor known now and adopts the streaming routes; idempotent. */
  private sweep(): void {
    const { instances, requestScoped } = globalInterceptors(this.config);
    for (const interceptor of instances) {
      if (!this.globals.includes(interceptor)) this.addGlobal(interceptor);
    }
    for (const wrapper of requestScoped) this.wrapRequestScoped(wrapper);
    for (const wrapper of injectableWrappers(this.modules)) {
      const type = interceptorClass(wrapper);
      if (!type) continue;
      if (isCreatedPerRequest(wrapper)) this.wrapClass(type, false);
      else this.wrapInstance(staticInstance(wrapper) as NestInterceptor | undefined, false);
    }
    const controllers = [...controllerClasses(this.modules)];
    for (const controller of controllers) this.wrapListedOn(controller);
    adoptStreamingRoutes(this, controllers, STREAMING_ROUTE_ADAPTER);
  }

  /** Interceptor instances in `@UseInterceptors(new X())` on a controller and its methods. */
  private wrapListedOn(controller: Type): void {
    const targets: object[] = [controller];
    for (
      let proto = controller.prototype as object | null;
      proto && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        const value = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
        if (name !== 'constructor' && typeof value === 'function') targets.push(value);
      }
    }
    for (const target of targets) {
      for (const item of getListedInterceptors(target)) {
        if (item && typeof item === 'object' && item !== STREAMING_ROUTE_ADAPTER.routeInterceptor)
          this.wrapInstance(item as NestInterceptor, false);
      }
    }
  }

  private wrapInstance(interceptor: NestInterceptor | undefined, global: boolean): void {
    if (!interceptor || typeof interceptor.intercept !== 'function') return;
    if (STREAMING_ROUTE_ADAPTER.isOwnInterceptor(interceptor)) return;
    const existing = stateOf(interceptor.intercept);
    if (existing) {
      if (global) existing.globalIn.add(this);
      return;
    }
    const state: WrapState = {
      globalIn: new Set(global ? [this] : []),
      streamSafe: isStreamSafe(interceptor.constructor),
    };
    const own = Object.getOwnPropertyDescriptor(interceptor, 'intercept');
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
      return;
    }
    this.undo.push(() => {
      if (own) Object.defineProperty(interceptor, 'intercept', own);
      else delete (interceptor as Partial<NestInterceptor>).intercept;
    });
  }

  /**
   * A request-scoped global interceptor: its class prototype is wrapped; one made by a factory
   * (no class to wrap) has each per-request instance wrapped as Nest resolves it.
   */
  private wrapRequestScoped(wrapper: InstanceWrapperLike): void {
    const type = interceptorClass(wrapper);
    if (type) return this.wrapClass(type, true);
    const restore = watchRequestScopedInstances(wrapper, instance =>
      this.wrapInstance(instance as NestInterceptor, true),
    );
    if (restore) this.undo.push(restore);
  }

  /** Request-scoped interceptors are created per request: their class prototype is wrapped. */
  private wrapClass(type: Type, global: boolean): void {
    const proto = type.prototype as Record<string, unknown> | undefined;
    if (!proto || typeof proto.intercept !== 'function') return;
    const own = Object.getOwnPropertyDescriptor(proto, 'intercept');
    const existing = own ? stateOf(own.value) : undefined;
    if (existing) {
      if (global) existing.globalIn.add(this);
      this.undo.push(() => existing.globalIn.delete(this));
      return;
    }
    const state: WrapState = {
      globalIn: new Set(global ? [this] : []),
      streamSafe: isStreamSafe(type),
    };
    Object.defineProperty(proto, 'intercept', {
      value: wrapIntercept(proto.intercept as Intercept, state),
      writable: true,
      configurable: true,
    });
    // Prototypes are shared by every application of the process: restored on close.
    this.undo.push(() => {
      if (own) Object.defineProperty(proto, 'intercept', own);
      else delete proto.intercept;
    });
  }
}
