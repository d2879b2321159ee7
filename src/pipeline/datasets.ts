/** The logical datasets the pipeline reads and writes (BigQuery may rename them by mapping). */
export const PIPELINE_DATASETS = ['nba_raw', 'nba_analytics', 'nba_precompute', 'nba_predictions'] as const;
export type PipelineDataset = (typeof PIPELINE_DATASETS)[number];
