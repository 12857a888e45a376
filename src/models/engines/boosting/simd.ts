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
const ADD = 0x6a, MUL = 0x6c, SHL = 0x74, GE_U = 0x4f;
const load8 = [0x2d, 0, 0];
const i32load = (off: number) => [0x28, 2, ...uleb(off)], i32store = (off: number) => [0x36, 2, ...uleb(off)];
const vload = (off: number) => [0xfd, 0x00, 4, ...uleb(off)],
  vstore = (off: number) => [0xfd, 0x0b, 4, ...uleb(off)];
const F64X2_ADD = [0xfd, 0xf0, 0x01];

interface Fn {
  name: string;
  params: number;
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

/** The module: its memory imported as e.m. */
export function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const fns = [rootFn(4), rootFn(1), leafFn(4), leafFn(1)];
  const types = fns.map((fn) => [0x60, ...vec(Array.from({ length: fn.params }, () => [I32])), 0]);
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
    ...section(2, vec([[...name("e"), ...name("m"), 0x02, 0x00, 1]])),
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
}

let compiled: WebAssembly.Module | null | undefined;

/** The kernels over a new memory of `bytes` bytes, or null where WebAssembly SIMD is not available. */
export function simdKernels(bytes: number): SimdKernels | null {
  if (compiled === undefined) {
    try {
      const b = simdModuleBytes();
      compiled = typeof WebAssembly !== "undefined" && WebAssembly.validate(b)
        ? new WebAssembly.Module(b)
        : null;
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return null;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  const x = new WebAssembly.Instance(compiled, { e: { m: memory } }).exports as unknown as SimdKernels;
  return { memory, root4: x.root4, root1: x.root1, leaf4: x.leaf4, leaf1: x.leaf1 };
}
