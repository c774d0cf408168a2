/**
 * The safetensors file format (huggingface/safetensors), read and written without dependencies:
 *
 *   u64 little-endian N | N bytes of JSON header | raw little-endian tensor data
 *
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into the data
 * section) and may hold `__metadata__`, a string → string map. PyTorch reads these files with
 * `safetensors.torch.load_file`, so they are how weights travel between this library and PyTorch.
 */
import * as fs from 'fs';
import { writeFileAtomic } from '../util/fs';

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<Dtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** One tensor as stored: its dtype, shape and raw little-endian bytes. */
export interface RawTensor {
  dtype: Dtype;
  shape: number[];
  bytes: Uint8Array;
}

export interface SafetensorsContents {
  /** Tensors in header order. */
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** A tensor to write; Float32Array data is stored as F32, Float64Array as F64, and so on. */
export interface TensorToWrite {
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
}

/** Raised for anything that is not a well-formed safetensors file; the message names the file. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

// The reference implementation refuses headers above 100 MB; a larger one means a corrupt length.
const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parses a whole safetensors file held in memory. `source` names it in error messages. */
export function parseSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${source} is not a valid safetensors file: ${msg}`);
  };
  if (buf.length < 8) fail(`only ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > buf.length) {
    fail(`header length ${headerLen} does not fit in ${buf.length} bytes`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen)));
  } catch (err) {
    return fail(`header is not JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const data = buf.subarray(8 + headerLen);
  const tensors = new Map<string, RawTensor>();
  const spans: Array<{ name: string; begin: number; end: number }> = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry) ||
        !Object.values(entry).every((v) => typeof v === 'string')) {
        fail(`__metadata__ must map strings to strings, got ${JSON.stringify(entry).slice(0, 100)}`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      fail(`tensor "${name}" is ${JSON.stringify(entry).slice(0, 100)}, not {dtype, shape, data_offsets}`);
    }
    const e = entry as { dtype?: string; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, e.dtype)) {
      fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(e.dtype)}`);
    }
    const dtype = e.dtype as Dtype;
    const shape = e.shape as number[];
    const offsets = e.data_offsets as [number, number];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has a bad shape ${JSON.stringify(e.shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}" has data_offsets ${JSON.stringify(e.data_offsets)}: expected two non-negative integers [begin, end]`);
    }
    const [begin, end] = offsets;
    if (begin > end) fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}: begin after end`);
    if (end > data.length) {
      fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)} outside the ${data.length}-byte data section`);
    }
    const expected = numel(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      fail(`tensor "${name}" (${dtype} [${shape.join(', ')}]) needs ${expected} bytes, its offsets span ${end - begin}`);
    }
    spans.push({ name, begin, end });
    tensors.set(name, { dtype, shape, bytes: data.subarray(begin, end) });
  }
  // As the reference's Metadata::validate: sorted by offsets, each tensor starts where the previous one
  // ended, and the last ends where the file does.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: string | undefined;
  for (const t of spans) {
    if (t.begin < at) {
      fail(`tensor "${t.name}" at data_offsets [${t.begin},${t.end}] overlaps tensor "${previous}", which ends at ${at}`);
    }
    if (t.begin > at) fail(`gap of ${t.begin - at} bytes before "${t.name}" (data_offsets [${t.begin},${t.end}], expected to start at ${at})`);
    at = t.end;
    previous = t.name;
  }
  if (at !== data.length) fail(`tensors cover ${at} of the ${data.length}-byte data section`);
  return { tensors, metadata };
}

/** Reads a safetensors file; a missing file gives a one-line error naming it. */
export function readSafetensors(file: string): SafetensorsContents {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SafetensorsError(code === 'ENOENT' ? `weights file not found: ${file}` : `cannot read ${file}: ${(err as Error).message}`);
  }
  return parseSafetensors(buf, file);
}

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The tensor's values as float32, whatever it was stored as (F32, F16, BF16, F64, integers, BOOL).
 * Always a fresh, aligned copy, so it can outlive the file buffer.
 */
export function toFloat32(t: RawTensor): Float32Array {
  const n = numel(t.shape);
  const out = new Float32Array(n);
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  switch (t.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(t.bytes);
      else for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(2 * i, true));
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      out.set(new Float32Array(bits.buffer));
      break;
    }
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(v.getBigInt64(8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = v.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = v.getUint8(i);
      break;
  }
  return out;
}

function dtypeOf(data: TensorToWrite['data']): Dtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Int32Array) return 'I32';
  return 'U8';
}

/** Little-endian bytes of a typed array (a view on little-endian hosts, a swapped copy otherwise). */
function leBytes(data: TensorToWrite['data']): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return bytes;
  const w = data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += w) for (let k = 0; k < w; k++) out[i + k] = bytes[i + w - 1 - k];
  return out;
}

/**
 * Writes tensors (in the given order) and string metadata atomically: a temporary file in the same
 * folder, fsync, then rename, so a crash never leaves a half-written weights file under `file`.
 */
export function writeSafetensors(
  file: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): void {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError('a tensor cannot be named __metadata__');
    if (numel(t.shape) !== t.data.length) {
      throw new SafetensorsError(`tensor "${name}": shape [${t.shape.join(', ')}] does not hold ${t.data.length} values`);
    }
    header[name] = { dtype: dtypeOf(t.data), shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  // Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf-8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  writeFileAtomic(file, [prefix, headerBytes, ...entries.map(([, t]) => leBytes(t.data))]);
}
