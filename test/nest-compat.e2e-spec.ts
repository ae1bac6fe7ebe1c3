import { expect } from '@jest/globals';
import {
  Injectable,
  Module,
  Scope,
  UseInterceptors,
  Controller,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ApplicationConfig, ContextIdFactory, ModulesContainer } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  checkNestInternals,
  injectableWrappers,
  isCreatedPerRequest,
  providerClass,
  staticInstance,
  watchRequestScopedInstances,
  type InstanceWrapperLike,
} from '../src/nest-compat/nest-container.compat.js';

// The Nest internals of src/nest-compat/nest-container.compat.ts read on a real container of the
// installed NestJS (this suite runs on every entry of the version matrix): what each function
// answers for a class, a factory, a value and a request-scoped provider.

@Injectable()
class StaticInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

class FactoryMade implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

const VALUE = new FactoryMade();

@Injectable()
class ListedInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

@Controller('compat')
@UseInterceptors(ListedInterceptor)
class CompatController {}

@Module({
  controllers: [CompatController],
  providers: [
    StaticInterceptor,
    RequestInterceptor,
    { provide: 'FACTORY', useFactory: () => new FactoryMade() },
    { provide: 'REQUEST_FACTORY', scope: Scope.REQUEST, useFactory: () => new FactoryMade() },
    { provide: 'VALUE', useValue: VALUE },
  ],
})
class CompatModule {}

/** The InstanceWrapper of a provider, found by token through the compat functions' own walk. */
const wrapperOf = (moduleRef: TestingModule, token: unknown): InstanceWrapperLike => {
  const modules = moduleRef.get(ModulesContainer);
  for (const module of modules.values()) {
    const wrapper = (module.providers as Map<unknown, InstanceWrapperLike>).get(token);
    if (wrapper) return wrapper;
  }
  throw new Error(`no provider ${String(token)}`);
};

describe('nest-compat: InstanceWrapper reads on the installed NestJS', () => {
  let moduleRef: TestingModule;
  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [CompatModule] }).compile();
    await moduleRef.init();
  });
  afterAll(() => moduleRef.close());

  it('finds every internal it relies on (the boot-time check is empty)', () => {
    const config = moduleRef.get(ApplicationConfig);
    expect(checkNestInternals(config, moduleRef.get(ModulesContainer))).toEqual([]);
  });

  it('a class provider: its class, static, its one instance', () => {
    const wrapper = wrapperOf(moduleRef, StaticInterceptor);
    expect(providerClass(wrapper)).toBe(StaticInterceptor);
    expect(isCreatedPerRequest(wrapper)).toBe(false);
    expect(staticInstance(wrapper)).toBe(moduleRef.get(StaticInterceptor));
  });

  it('a request-scoped class: its class, created per request', () => {
    const wrapper = wrapperOf(moduleRef, RequestInterceptor);
    expect(providerClass(wrapper)).toBe(RequestInterceptor);
    expect(isCreatedPerRequest(wrapper)).toBe(true);
  });

  it('a factory or a value: no class to wrap', () => {
    const factory = wrapperOf(moduleRef, 'FACTORY');
    expect(providerClass(factory)).toBeUndefined();
    expect(isCreatedPerRequest(factory)).toBe(false);
    expect(staticInstance(factory)).toBeInstanceOf(FactoryMade);
    expect(providerClass(wrapperOf(moduleRef, 'VALUE'))).toBeUndefined();
    expect(staticInstance(wrapperOf(moduleRef, 'VALUE'))).toBe(VALUE);
    expect(providerClass(wrapperOf(moduleRef, 'REQUEST_FACTORY'))).toBeUndefined();
    expect(isCreatedPerRequest(wrapperOf(moduleRef, 'REQUEST_FACTORY'))).toBe(true);
  });

  it('sees every per-request instance of a factory-made provider, once watched, until restored', async () => {
    const wrapper = wrapperOf(moduleRef, 'REQUEST_FACTORY');
    const seen: unknown[] = [];
    const restore = watchRequestScopedInstances(wrapper, instance => seen.push(instance));
    expect(restore).toBeInstanceOf(Function);
    // A second watch of the same wrapper is a no-op (the exclusion's sweeps may meet it twice).
    expect(watchRequestScopedInstances(wrapper, instance => seen.push(instance))).toBeUndefined();

    const first = await moduleRef.resolve<FactoryMade>(
      'REQUEST_FACTORY',
      ContextIdFactory.create(),
    );
    const second = await moduleRef.resolve<FactoryMade>(
      'REQUEST_FACTORY',
      ContextIdFactory.create(),
    );
    expect(first).toBeInstanceOf(FactoryMade);
    expect(second).not.toBe(first);
    expect(seen).toContain(first);
    expect(seen).toContain(second);

    restore!();
    const count = seen.length;
    await moduleRef.resolve('REQUEST_FACTORY', ContextIdFactory.create());
    expect(seen).toHaveLength(count);
    // Restored: it can be watched again.
    const again = watchRequestScopedInstances(wrapper, () => undefined);
    expect(again).toBeInstanceOf(Function);
    again!();
  });

  it('walks the injectables: an interceptor class bound by @UseInterceptors()', () => {
    const classes = [...injectableWrappers(moduleRef.get(ModulesContainer))].map(providerClass);
    expect(classes).toContain(ListedInterceptor);
  });
});
