/**
 * satc as a library. The CLI (src/cli) is a thin layer over these functions; nothing here prints.
 */
export { SatcError, UsageError } from "./errors.js";
export type { Matrix } from "./util/matrix.js";
export { Random } from "./util/random.js";

// Inputs
export { openDataset, checkClusterCount, ACCEPTED_INPUTS, FASHION_MNIST_CLASSES } from "./input/index.js";
export type { Dataset, ImageDataset, FeatureDataset, RawImage, SkippedItem, OpenDatasetOptions } from "./input/index.js";

// Encoders and features
export {
  encodeFeatures, encoderNames, resnetSpatialNodes,
  type EncodedFeatures, type EncoderName, type SpatialNodes, type SpatialNodesOptions, type SpatialNodesReduce,
} from "./encoders/index.js";
export { encodePixels, defaultPixelsOptions, type PixelsOptions, type PixelFeatures } from "./encoders/pixels.js";
export { readNpy, writeNpy, parseNpy, encodeNpy, type NpyArray } from "./features/npy.js";

// Clustering and evaluation
export { kmeans, assignToCenters, type KMeansOptions, type KMeansResult, type KMeansMetric } from "./clustering/kmeans.js";
export {
  evaluateClustering,
  clusteringAccuracy,
  normalizedMutualInfo,
  adjustedRandIndex,
  contingencyTable,
  type ClusteringScores,
} from "./evaluation/metrics.js";

// Training: neighbours, heads, the three-view method and its ablation
export { mineNeighbors } from "./clustering/neighbors.js";
export { trainHeads, predictWithHeads, type View, type ViewEncoder, type TrainOptions, type TrainResult, type HeadsModel } from "./training/trainer.js";
export {
  trainSatc, predictSatc, releaseSatc, restartSeed, spatialVariants,
  type SatcInputs, type SatcOptions, type SatcResult, type SatcModel, type SpatialVariant,
} from "./spatial/method.js";
export { runAblation, formatAblation, type AblationOptions, type AblationResult } from "./spatial/ablate.js";

// Runs
export { runCluster, marginConfidence, type ClusterRunOptions, type ClusterRunResult, type RunProgress } from "./run/cluster.js";
export { writeRunFolder, formatAssignmentsCsv, type Assignments } from "./run/folder.js";
export type { RunRecord, Scores, SeedRun, InputRecord, ModelRecord } from "./run/record.js";

// Text view (WordNet nouns, noun bank, counterpart, tau selector, cluster names)
export * from "./text/index.js";
