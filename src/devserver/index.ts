/** Local Temporal dev server: find the CLI (or build it), start and stop the server, probe an address. */
export {
  locateTemporalCli,
  TemporalCliNotFoundError,
  cacheDir,
  cachedCliPath,
  goInstallCommand,
  TEMPORAL_CLI_ENV,
  TEMPORAL_CLI_GO_PACKAGE,
  TEMPORAL_CLI_VERSION,
  type LocateTemporalCliOptions,
} from './locate';
export {
  startDevServer,
  findFreePort,
  isTemporalReachable,
  listCustomSearchAttributes,
  DevServerStartError,
  type DevServerHandle,
  type DevServerOptions,
  type SearchAttributeTypeName,
} from './server';
