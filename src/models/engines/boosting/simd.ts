/**
 * The histogram update loops as WebAssembly with 128-bit SIMD: a bin's
 * (gradient, hessian) pair is one f64x2 lane pair, so a row's update of a
 * feature is one load, one add and one store, where the JavaScript loop does
 * two of each (and bounds checks). Lane-wise f64x2.add is the same IEEE
 * double addition as JavaScript's, in the same order, so a histogram is the
 * same bit for bit either way (kernels.ts keeps the JavaScript loops as the
 * fallback, and tests compare the two).
 *
 * Each thread instantiates the module once over its own memory, which holds
 * its `Scratch` buffers (the gathered rows, gradients and local bins); the
 * shared arena stays in typed arrays. The module's bytes are written here, a
 * few instructions each, rather than shipped as a binary.
 *
 * Functions (all arguments i32 byte offsets or counts):
 *
 *   root4(tg, c0, c1, c2, c3, h, k) / root1(tg, c0, h, k): rows i < k with
 *     (g, h) at tg + 16 i and feature u's code at byte c_u + i; feature u's
 *     bin b at h + 4096 u + 16 b
 *   leaf4(tc, stride, f0, f1, f2, f3, tg, h0, h1, h2, h3, n0, n1, n2, n3, k) /
 *     leaf1(tc, stride, f0, tg, h0, n0, k): row i's codes at tc + stride i
 *     (feature u's at + f_u), its (g, h) at tg + 16 i; feature u's bin b at
 *     h_u + 16 b, its count (i32) at n_u + 4 b
 */

const uleb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};
const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && (b & 0x40))) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => vec([...new TextEncoder().encode(s)].map((b) => [b]));

const I32 = 0x7f, V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)], set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const ADD = 0x6a, SUB = 0x6b, MUL = 0x6c, SHL = 0x74, GE_U = 0x4f;
const load8 = [0x2d, 0, 0];
const i32load = (off: number) => [0x28, 2, ...uleb(off)], i32store = (off: number) => [0x36, 2, ...uleb(off)];
const vload = (off: number) => [0xfd, 0x00, 4, ...uleb(off)],
  vstore = (off: number) => [0xfd, 0x0b, 4, ...uleb(off)];
const F64X2_ADD = [0xfd, 0xf0, 0x01];

interface Fn {
  name: string;
  params: number;
  /** returns an i32 (its last local's value is left on the stack by `code`) */
  returns?: boolean;
  /** locals after the params: [count, type] */
  locals: [number, number][];
  code: number[];
}

/** `for (i = 0; i < k; i++) body(i)`, i a local. */
function loop(i: number, k: number, body: number[]): number[] {
  return [
    0x02,
    0x40,
    0x03,
    0x40,
    ...get(i),
    ...get(k),
    GE_U,
    0x0d,
    1,
    ...body,
    ...get(i),
    ...i32c(1),
    ADD,
    ...set(i),
    0x0c,
    0,
    0x0b,
    0x0b,
  ];
}

/** root{U}: params tg, c0..c{U-1}, h, k; locals i, o, gv. */
function rootFn(U: number): Fn {
  const tg = 0, h = U + 1, k = U + 2, i = U + 3, o = U + 4, gv = U + 5;
  const body = [...get(tg), ...get(i), ...i32c(4), SHL, ADD, ...vload(0), ...set(gv)];
  for (let u = 0; u < U; u++) {
    body.push(...get(h), ...get(1 + u), ...get(i), ADD, ...load8, ...i32c(4), SHL, ADD, ...set(o));
    body.push(...get(o), ...get(o), ...vload(4096 * u), ...get(gv), ...F64X2_ADD, ...vstore(4096 * u));
  }
  return { name: `root${U}`, params: U + 3, locals: [[2, I32], [1, V128]], code: loop(i, k, body) };
}

/** leaf{U}: params tc, stride, f0..f{U-1}, tg, h0..h{U-1}, n0..n{U-1}, k; locals i, ro, c, o, gv. */
function leafFn(U: number): Fn {
  const tc = 0, stride = 1, f = (u: number) => 2 + u, tg = 2 + U, h = (u: number) => 3 + U + u;
  const n = (u: number) => 3 + 2 * U + u, k = 3 + 3 * U;
  const i = k + 1, ro = k + 2, c = k + 3, o = k + 4, gv = k + 5;
  const body = [
    ...get(tg),
    ...get(i),
    ...i32c(4),
    SHL,
    ADD,
    ...vload(0),
    ...set(gv),
    ...get(tc),
    ...get(i),
    ...get(stride),
    MUL,
    ADD,
    ...set(ro),
  ];
  for (let u = 0; u < U; u++) {
    body.push(...get(ro), ...get(f(u)), ADD, ...load8, ...set(c));
    body.push(...get(h(u)), ...get(c), ...i32c(4), SHL, ADD, ...set(o));
    body.push(...get(o), ...get(o), ...vload(0), ...get(gv), ...F64X2_ADD, ...vstore(0));
    body.push(...get(n(u)), ...get(c), ...i32c(2), SHL, ADD, ...set(o));
    body.push(...get(o), ...get(o), ...i32load(0), ...i32c(1), ADD, ...i32store(0));
  }
  return { name: `leaf${U}`, params: 4 + 3 * U, locals: [[4, I32], [1, V128]], code: loop(i, k, body) };
}

/**
 * gather(rows, b0, k, codes, stride, gh, tc, tg): rows i < k of the row list
 * (i32s at rows, from index b0): row r's `stride` code bytes (a multiple of
 * 16) from codes + stride r to tc + stride i, its (g, h) from gh + 16 r to
 * tg + 16 i. Locals i, r, src, dst, q.
 */
function gatherFn(): Fn {
  const rows = 0, b0 = 1, k = 2, codes = 3, stride = 4, gh = 5, tc = 6, tg = 7;
  const i = 8, r = 9, src = 10, dst = 11, q = 12;
  const body = [
    ...[...get(rows), ...get(b0), ...get(i), ADD, ...i32c(2), SHL, ADD, ...i32load(0), ...set(r)],
    ...[...get(tg), ...get(i), ...i32c(4), SHL, ADD, ...get(gh), ...get(r), ...i32c(4), SHL, ADD],
    ...[...vload(0), ...vstore(0)],
    ...[...get(codes), ...get(r), ...get(stride), MUL, ADD, ...set(src)],
    ...[...get(tc), ...get(i), ...get(stride), MUL, ADD, ...set(dst), ...i32c(0), ...set(q)],
    // 16 bytes at a time up to stride
    ...[0x02, 0x40, 0x03, 0x40, ...get(q), ...get(stride), GE_U, 0x0d, 1],
    ...[...get(dst), ...get(q), ADD, ...get(src), ...get(q), ADD, ...vload(0), ...vstore(0)],
    ...[...get(q), ...i32c(16), ADD, ...set(q), 0x0c, 0, 0x0b, 0x0b],
  ];
  return { name: "gather", params: 8, locals: [[5, I32]], code: loop(i, k, body) };
}

/**
 * part(src, dst, colf, lut, i, count, l, r, step) -> l: kernels.ts
 * partitionBlock's loop: `count` rows of the row list at src (i32s), from
 * index i by step (1 or -1); row's code at colf + row, its side lut[code]
 * (1: left); placed at dst index l (left) or r, that cursor moved by step.
 * Locals c, row, left.
 */
function partFn(): Fn {
  const src = 0,
    dst = 1,
    colf = 2,
    lut = 3,
    i = 4,
    count = 5,
    l = 6,
    r = 7,
    step = 8,
    c = 9,
    row = 10,
    left = 11;
  const body = [
    ...[...get(src), ...get(i), ...i32c(2), SHL, ADD, ...i32load(0), ...set(row)],
    ...[...get(lut), ...get(colf), ...get(row), ADD, ...load8, ADD, ...load8, ...set(left)],
    // dst[r + (l - r) * left] = row
    ...[...get(dst), ...get(r), ...get(l), ...get(r), SUB, ...get(left), MUL, ADD, ...i32c(2), SHL, ADD],
    ...[...get(row), ...i32store(0)],
    ...[...get(l), ...get(step), ...get(left), MUL, ADD, ...set(l)],
    ...[...get(r), ...get(step), ADD, ...get(step), ...get(left), MUL, SUB, ...set(r)],
    ...[...get(i), ...get(step), ADD, ...set(i)],
  ];
  return {
    name: "part",
    params: 9,
    returns: true,
    locals: [[3, I32]],
    code: [...loop(c, count, body), ...get(l)],
  };
}

/** The module: its memory imported as e.m (shared and up to 4 GB when `shared`). */
export function simdModuleBytes(shared = false): Uint8Array<ArrayBuffer> {
  const fns = [rootFn(4), rootFn(1), leafFn(4), leafFn(1), gatherFn(), partFn()];
  const types = fns.map((fn) => [
    0x60,
    ...vec(Array.from({ length: fn.params }, () => [I32])),
    ...(fn.returns ? [1, I32] : [0]),
  ]);
  const bodies = fns.map((fn) => {
    const b = [...vec(fn.locals.map(([cnt, t]) => [...uleb(cnt), t])), ...fn.code, 0x0b];
    return [...uleb(b.length), ...b];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec(types)),
    ...section(
      2,
      vec([[...name("e"), ...name("m"), 0x02, ...(shared ? [0x03, 1, ...uleb(65536)] : [0x00, 1])]]),
    ),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((fn, i) => [...name(fn.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}

export interface SimdKernels {
  memory: WebAssembly.Memory;
  root4(tg: number, c0: number, c1: number, c2: number, c3: number, h: number, k: number): void;
  root1(tg: number, c0: number, h: number, k: number): void;
  leaf4(
    tc: number,
    stride: number,
    f0: number,
    f1: number,
    f2: number,
    f3: number,
    tg: number,
    h0: number,
    h1: number,
    h2: number,
    h3: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    k: number,
  ): void;
  leaf1(tc: number, stride: number, f0: number, tg: number, h0: number, n0: number, k: number): void;
  gather(
    rows: number,
    b0: number,
    k: number,
    codes: number,
    stride: number,
    gh: number,
    tc: number,
    tg: number,
  ): void;
  part(
    src: number,
    dst: number,
    colf: number,
    lut: number,
    i: number,
    count: number,
    l: number,
    r: number,
    step: number,
  ): number;
}

const compiled: (WebAssembly.Module | null | undefined)[] = [undefined, undefined];

function moduleOf(shared: boolean): WebAssembly.Module | null {
  const s = shared ? 1 : 0;
  if (compiled[s] === undefined) {
    try {
      const b = simdModuleBytes(shared);
      compiled[s] = typeof WebAssembly !== "undefined" && WebAssembly.validate(b)
        ? new WebAssembly.Module(b)
        : null;
    } catch {
      compiled[s] = null;
    }
  }
  return compiled[s]!;
}

/** Memories past this size are not made (wasm32 addresses 4 GB). */
const MAX_BYTES = 4 * 1024 ** 3 - 65536;

/**
 * A memory of at least `bytes` bytes for the kernels (shared when `shared`),
 * or null where WebAssembly SIMD is not available or the size is too large.
 */
export function simdMemory(bytes: number, shared: boolean): WebAssembly.Memory | null {
  if (bytes > MAX_BYTES || !moduleOf(shared)) return null;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared } as WebAssembly.MemoryDescriptor);
  } catch {
    return null;
  }
}

/** The kernels over a memory from `simdMemory`. */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels {
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  const x = new WebAssembly.Instance(moduleOf(shared)!, { e: { m: memory } })
    .exports as unknown as SimdKernels;
  return {
    memory,
    root4: x.root4,
    root1: x.root1,
    leaf4: x.leaf4,
    leaf1: x.leaf1,
    gather: x.gather,
    part: x.part,
  };
}
