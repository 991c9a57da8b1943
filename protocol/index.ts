/** The contract between agent and worker: closure codec, channel frames, invocation events. No I/O. */
export { BeehiveError, defineErrors, type ErrorFactory } from './errors';
export { encode, type EncodeResult } from './codec/encode';
export { decode } from './codec/decode';
export type { EncodeHooks, DecodeHooks, FunctionEncoding, Replacement } from './codec/hooks';
export { CodecErrors } from './codec/errors';
export { refKindOf, typedArrayKind, ownKeys, functionOwnKeys, isPlainProto, isCodecBuiltin, builtinKind, extraKeys, refusalOf, isNativeCode, isCarriedProto, nodeSymbolName, nodeSymbolByName, classOf, isArrayIndex, type BuiltinName } from './codec/classify';
export { packagePrint } from './codec/package-print';
export { nearest } from './source-text';
export { registerLruClass, isLruCache, sameLruEntries, lruPicture, sameLruPicture, type LruPicture, isLruDump, copyLruDump, lruAnswer, lruGetRemoves, LRU_INLINE_ENTRIES, LRU_KEY_CALLS, type LruKeyCall, type LruDump, type LruEntry, type LruLike, type LruRecord } from './codec/lru';
export { REF_KINDS, type RefKind, CODEC_VERSION } from './codec/tags';
export * from './messages';
export * from './invocation';
export type { Op, Change, Outcome, PropChanges } from './contract';
export { WITH_CALLBACKS } from './contract';
export { checkPgRecord, PgRecordErrors, type PgRecord, type PgClientRecord, type PgPoolRecord } from './pg-records';
export type { SessionSnapshot, SessionDiff, SessionStep } from './session';
