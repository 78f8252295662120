/**
 * The report's 2-D map: UMAP (umap-js) of the run's global features on a seeded sample, with
 * cosine geometry (rows L2-normalised, then Euclidean), scaled into the unit square.
 */
import { UMAP } from "umap-js";
import { Random } from "../util/random.js";
import type { Matrix } from "../util/matrix.js";

export interface MapOptions {
  /** Largest number of points laid out; larger inputs are sampled (seeded). Default 2000. */
  maxPoints: number;
  /** Seed of the sample and of UMAP. */
  seed: number;
  /** UMAP optimisation epochs. Default 200 (umap-learn's choice for large inputs). */
  epochs: number;
  /** UMAP neighbours. Default 15. */
  neighbors: number;
}

export const defaultMapOptions: MapOptions = { maxPoints: 2000, seed: 0, epochs: 200, neighbors: 15 };

export interface MapLayout {
  /** (m) row of the features (= item index) of each point, ascending. */
  index: Int32Array;
  /** (m, 2) coordinates in [0,1] x [0,1], row-major. */
  xy: Float32Array;
}

/** Fewest points for which a map is drawn. */
export const MIN_MAP_POINTS = 5;

/**
 * Lay out a sample of the rows of `features` (nSamples, nFeatures) in 2-D.
 * Returns null when there are fewer than MIN_MAP_POINTS rows.
 */
export function layoutMap(features: Matrix, options: Partial<MapOptions> = {}): MapLayout | null {
  const o = { ...defaultMapOptions, ...options };
  const n = features.rows;
  if (n < MIN_MAP_POINTS) return null;
  const random = new Random(o.seed);
  let index: Int32Array;
  if (n > o.maxPoints) {
    index = random.permutation(n).slice(0, o.maxPoints).sort();
  } else {
    index = new Int32Array(n);
    for (let i = 0; i < n; i++) index[i] = i;
  }
  const d = features.cols;
  const rows: number[][] = new Array(index.length);
  for (let r = 0; r < index.length; r++) {
    const off = index[r] * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += features.data[off + j] * features.data[off + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    const v = new Array<number>(d);
    for (let j = 0; j < d; j++) v[j] = features.data[off + j] * inv;
    rows[r] = v;
  }
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(o.neighbors, index.length - 1)),
    nEpochs: o.epochs,
    minDist: 0.1,
    random: () => random.next(),
  });
  const embedding = umap.fit(rows);
  return { index, xy: scaleToUnit(embedding) };
}

/** Scale 2-D points into [0,1]^2 keeping the aspect ratio, centred on the shorter axis. */
function scaleToUnit(points: number[][]): Float32Array {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const span = Math.max(maxX - minX, maxY - minY) || 1;
  const offX = (1 - (maxX - minX) / span) / 2;
  const offY = (1 - (maxY - minY) / span) / 2;
  const out = new Float32Array(points.length * 2);
  points.forEach(([x, y], i) => {
    // A point UMAP could not place (degenerate input) goes to the centre rather than NaN.
    const ok = Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(minX);
    out[2 * i] = ok ? offX + (x - minX) / span : 0.5;
    out[2 * i + 1] = ok ? offY + (y - minY) / span : 0.5;
  });
  return out;
}
