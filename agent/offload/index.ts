/**
 * The server half of an offload, one request's lifecycle in the order of its files (DESIGN.md §3,
 * docs/architecture.md): 1 decide, 2 capture, 3 invoke, 4 commit, 5 replay, 6 fail safe.
 * `dispatcher.ts` walks a request through them; the rest of the agent reaches this folder only here.
 */
export { Dispatcher, type DispatchContext } from './dispatcher';
export { setNestMethod, type NestMethodInfo } from './2-nest-call';
export { makePacker, type InvocationPacker } from './2-pg-pack';
export { applyChangeSets, checkChanges } from './4-apply';
export { bindNext } from './5-replay';
export { exemptNestLoggers } from './5-nest-logger';
