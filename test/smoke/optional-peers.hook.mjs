// Module resolve hook of test/smoke/no-optional-peers.mjs: resolving an optional peer throws.
const PEERS = ['prom-client', '@nestjs/terminus', '@nestjs/swagger', 'ioredis'];

export async function resolve(specifier, context, next) {
  if (PEERS.some(peer => specifier === peer || specifier.startsWith(`${peer}/`)))
    throw new Error(`optional peer "${specifier}" loaded by ${context.parentURL}`);
  return next(specifier, context);
}
