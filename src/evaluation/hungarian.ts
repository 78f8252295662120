/**
 * Linear sum assignment (the Hungarian method, in the shortest-augmenting-path form of Jonker and
 * Volgenant), as scipy.optimize.linear_sum_assignment. Written here because npm has no well-kept
 * package for it (the few there are unmaintained, square-only or integer-only).
 *
 * Cost (rows, cols) may be rectangular: min(rows, cols) pairs are matched, each row and each column
 * at most once, minimising (or maximising) the total. O(r^2 c) for r = min(rows, cols).
 */

export interface Assignment {
  /** For each row, its matched column, or -1 when rows > cols and the row is left out. */
  rowToCol: Int32Array;
  /** For each column, its matched row, or -1. */
  colToRow: Int32Array;
  /** Sum of the matched costs (of the original matrix, not negated when maximising). */
  total: number;
}

/** `cost` is row-major (rows, cols). */
export function linearSumAssignment(cost: ArrayLike<number>, rows: number, cols: number, maximize = false): Assignment {
  if (cost.length !== rows * cols) {
    throw new RangeError(`linearSumAssignment: cost has ${cost.length} values, expected rows*cols = ${rows}*${cols}`);
  }
  for (let i = 0; i < cost.length; i++) {
    if (!Number.isFinite(cost[i])) throw new RangeError(`linearSumAssignment: cost[${i}] = ${cost[i]} is not finite`);
  }
  const rowToCol = new Int32Array(rows).fill(-1);
  const colToRow = new Int32Array(cols).fill(-1);
  if (rows === 0 || cols === 0) return { rowToCol, colToRow, total: 0 };
  // Work on n <= m: transpose when there are more rows than columns.
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const sign = maximize ? -1 : 1;
  const a = (i: number, j: number): number => sign * (transposed ? cost[j * cols + i] : cost[i * cols + j]);

  // 1-based potentials u (rows) and v (columns); p[j] = row matched to column j (0: none).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }

  let total = 0;
  for (let j = 1; j <= m; j++) {
    if (p[j] === 0) continue;
    const small = p[j] - 1;
    const large = j - 1;
    const r = transposed ? large : small;
    const c = transposed ? small : large;
    rowToCol[r] = c;
    colToRow[c] = r;
    total += cost[r * cols + c];
  }
  return { rowToCol, colToRow, total };
}
