/**
 * File names that more than one stage agrees on. They live in config, the layer
 * every stage may import, so no stage reaches sideways into another for a name.
 */

/** The feature stage's training table, under `paths.features`. */
export const FEATURES_FILE = "customer_features.parquet";
/** The feature stage's output for a scoring batch (`features --batch`), under `paths.features`. */
export const BATCH_FEATURES_FILE = "batch_features.parquet";
