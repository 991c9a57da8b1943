/**
 * Admin facade: the operator's HTTP API, dashboard, Prometheus metrics and time series.
 *
 * Wiring (by the agent): `const admin = await startAdminServer({ control, token, ...parseAdminAddress(env) })`
 * and `await admin.close()` at shutdown.
 */
export { startAdminServer, type AdminServer } from './server';
export { validateAdminOptions, parseAdminAddress, kAdminDefaults, type AdminOptions } from './options';
export { createSeriesSampler, type SeriesSampler, type SeriesOptions, type SeriesPoint } from './series';
export { createMetrics, effectiveRatio, type AgentMetrics, type MetricsOptions } from './metrics';
export { AdminErrors, adminErrorRegistries } from './errors';
export { dashboardHtml } from './dashboard-page';
