/**
 * A dense row-major float32 matrix with an explicit shape. Every stage of satc passes features
 * around in this form: (rows, cols) = (nSamples, nFeatures) unless a doc comment says otherwise.
 */
export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

export function matrix(data: Float32Array, rows: number, cols: number): Matrix {
  if (data.length !== rows * cols) {
    throw new RangeError(`matrix data has ${data.length} values, expected rows*cols = ${rows}*${cols} = ${rows * cols}`);
  }
  return { data, rows, cols };
}

export function zeros(rows: number, cols: number): Matrix {
  return { data: new Float32Array(rows * cols), rows, cols };
}

/** Row i as a view (no copy). */
export function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** Scale every row to unit L2 norm in place; all-zero rows stay zero. Returns m. */
export function normalizeRows(m: Matrix): Matrix {
  const { data, rows, cols } = m;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) s += data[o + j] * data[o + j];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < cols; j++) data[o + j] *= inv;
    }
  }
  return m;
}

/** Copy of the rows listed in `index`, in that order. */
export function takeRows(m: Matrix, index: ArrayLike<number>): Matrix {
  const out = new Float32Array(index.length * m.cols);
  for (let r = 0; r < index.length; r++) out.set(row(m, index[r]), r * m.cols);
  return { data: out, rows: index.length, cols: m.cols };
}
