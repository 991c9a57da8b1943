/** Distributed reference management: server export table and leases, worker-side bounded caches. */
export { ExportTable, Lease } from './export-table';
export { Lru } from './lru';
