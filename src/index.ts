/** phiwall's library API: the CLI and the server are thin shells over these. */
export { type Connection, type ConnectionPeer, computeConnectivity } from './analysis/connectivity.ts';
export { isNamedExplanation, runConnectivityTests, type TestResult } from './analysis/connectivity-tests.ts';
export { type Explanation, explainConnection, type PortQuery } from './analysis/explain.ts';
export { type Resolved, ResolveError, resolveEndpoint } from './analysis/resolve.ts';
export { DEFAULT_OPTIONS, type Endpoint, type EngineOptions } from './engine/endpoint.ts';
export { Engine, type PodClass, type SideExplanation } from './engine/engine.ts';
export { contains, type IntervalSet } from './engine/intervals.ts';
export { ALL_PORTS, NO_PORTS, type PortSet } from './engine/ports.ts';
export { referenceAllows } from './engine/reference.ts';
export * as history from './history/index.ts';
export { type ConnectivityTest, parseConnectivityTests } from './load/connectivity-tests.ts';
export { type Diagnostic, formatDiagnostic, InputError } from './load/diagnostics.ts';
export { buildSnapshot, type LoadOptions, loadSnapshot } from './load/snapshot.ts';
export type * from './model/types.ts';
export { renderConnectivity } from './report/connectivity.ts';
export { renderTestResults, testResultsJson } from './report/connectivity-tests.ts';
export { explanationJson, reasonFor, renderExplanationText } from './report/explain.ts';
export { VERSION } from './version.ts';
