/**
 * What a run leaves in its folder. `run.json` is a RunRecord; `assignments.csv` has the header
 * `id,cluster,confidence` and one row per item of the clustered input, in input order.
 * The report (report.html) and export are built from these two files plus the input they name.
 */

export interface Scores {
  /** Clustering accuracy (Hungarian matching), a fraction in [0,1]. */
  acc: number;
  /** Normalised mutual information, arithmetic normalisation (scikit-learn's default). */
  nmi: number;
  /** Adjusted Rand index. */
  ari: number;
}

export interface ModelRecord {
  id: string;
  revision: string;
  file: string;
  sha256: string;
}

/**
 * What made the patch nodes of the spatial view when they came from a model rather than from the
 * visual encoder itself (ResNet-50 nodes under a CLIP run, src/encoders/spatialNodes.ts).
 */
export interface SpatialNodesRecord {
  /** "resnet50". */
  name: string;
  /** Model identity: hub id, revision, dtype, preprocess. */
  options: Record<string, unknown>;
  models: ModelRecord[];
  /** Nodes per image (49 for ResNet-50 at 224 px) and channels before and after the reduction. */
  cells: number;
  inChannels: number;
  channels: number;
  reduction: {
    method: "pca" | "projection" | "identity";
    /** Images encoded to fit the reduction, nodes drawn from them, seed of both draws. */
    sampleImages: number;
    sampleNodes: number;
    seed: number;
    /** PCA: share of the sample's variance kept by the components; else null. */
    explainedVariance: number | null;
  };
  /** The stored (nSamples, cells, channels) .npy, when the feature store holds it. */
  path: string | null;
  cached: boolean;
}

export interface InputRecord {
  /** What the user gave (path or spec), resolvable again by openDataset. */
  source: string;
  name: string;
  n: number;
  hasLabels: boolean;
  classNames: string[] | null;
  skipped: { id: string; reason: string }[];
}

/** One training/clustering run with one seed. */
export interface SeedRun {
  seed: number;
  metrics: Scores | null;
  eval: { n: number; metrics: Scores | null } | null;
  seconds: number;
  /** Training epochs run, or k-means iterations of the best restart. */
  iterations: number;
  /** Heads: each training of this seed (its seed, final epoch loss, epochs) and the index of the one kept (lowest loss). */
  restarts?: { tried: { seed: number; loss: number; epochs: number }[]; kept: number };
  warnings: string[];
}

export interface RunRecord {
  satcVersion: string;
  command: string;
  createdAt: string;
  input: InputRecord;
  evalInput: InputRecord | null;
  options: Record<string, unknown>;
  encoder: { name: string; options: Record<string, unknown>; models: ModelRecord[]; baseline: boolean };
  /** Where the encoded global features (n, d) of the input are stored (a .npy path), for maps and re-use. */
  features: { global: string; dims: number[] } | null;
  /** Source of the spatial view's nodes when a model other than the visual encoder made them (absent: none, or the encoder's own patches). */
  spatialNodes?: SpatialNodesRecord | null;
  /**
   * Text view decision (DESIGN 1.2). tau is null when it was not computed: with --text off, or
   * when the encoder has no text space (`unavailable` says why).
   */
  text: { tau: number | null; threshold: number; used: boolean; mode: "auto" | "on" | "off"; unavailable?: string } | null;
  clusters: {
    k: number;
    sizes: number[];
    /** Nouns that describe each cluster, best first, when the text view provided them. */
    names: string[][] | null;
  };
  /** Scores of the reported run (the first seed) on the clustered input, when it has labels. */
  metrics: Scores | null;
  /** Contingency table of the reported run, when labels exist: rows = clusters 0..k-1, columns = classes. */
  confusion: number[][] | null;
  eval: { n: number; metrics: Scores | null; confusion: number[][] | null } | null;
  /** Every seed's run; with --runs N, N entries, plus their mean and standard deviation. */
  runs: SeedRun[];
  /** Mean and sample standard deviation (n - 1) of the runs' scores, with --runs > 1. */
  summary: { mean: Scores; std: Scores } | null;
  timings: Record<string, number>;
  versions: Record<string, string>;
}
