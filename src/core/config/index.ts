/**
 * The configuration layer: `replication_config.json` and `settings.json` in the original system's schema,
 * validated once at the edge (STYLE.md §4), and the naming rules derived from them (DESIGN.md §3).
 *
 * docs/CONFIGURATION.md documents every field, the naming rules and the loop rule.
 *
 * @example
 * import { loadConfigFiles, sourceQueueName } from './core/config/index.js';
 * const { config, settings } = await loadConfigFiles('replication_config.json', 'settings.json');
 * for (const s of config.sources) console.log(sourceQueueName(s.bucket, s.prefixFilter));
 */
export type {
  ConfigIssue,
  DestinationConfig,
  EnabledRegion,
  LoadedConfig,
  ReplicationConfig,
  Settings,
  SourceConfig,
} from './types.js';
export { RegionRole, SOURCE_DEFAULTS, STORAGE_CLASSES, StagingDirection, StorageClass } from './constants.js';
export { parseConfigPair, parseReplicationConfig, parseSettings } from './parse.js';
export { loadConfigFiles, parseJsonText } from './load.js';
export { formatIssue } from './issues.js';
export {
  describeSource,
  findReplicationLoops,
  keyFiltersOverlap,
  prefixesOverlap,
  REPLICATION_CONFIG_FILE,
  SETTINGS_FILE,
  type KeyFilter,
  type ReplicationLoop,
} from './validate.js';
export {
  ARCHIVE_EXTENSION,
  ARCHIVE_ID_MAX_LENGTH,
  COMPRESSION_SETTINGS_KEY,
  COMPRESSION_SETTINGS_TABLE,
  compressionSettingsKey,
  deadLetterQueueName,
  DLQ_SUFFIX,
  inboundBucketName,
  OUTBOUND_KEY_ROOT,
  outboundArchiveKey,
  outboundArchivePrefix,
  outboundBucketName,
  QUEUE_NAME_MAX_LENGTH,
  REPLICATION_PARAMETERS_KEY,
  REPLICATION_PARAMETERS_TABLE,
  replicationParameterName,
  sanitizeQueueNamePart,
  sourceQueueName,
  stagingBucketName,
  targetQueueName,
} from './naming.js';
export {
  topology,
  MAX_RECEIVE_COUNT,
  LOCAL_ACCOUNT_ID,
  type Topology,
  type SourceResources,
  type TargetResources,
  type ReplicationRule,
} from './topology.js';
