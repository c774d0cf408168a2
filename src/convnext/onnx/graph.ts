/**
 * A small builder over ONNX's protobuf messages: nodes, float32 / int64 initializers, inputs and outputs
 * with named (dynamic) dimensions, encoded to a ModelProto with protobufjs and ONNX's own schema
 * (onnx.proto beside this file, as published by the ONNX project, Apache-2.0).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';

/** ONNX's TensorProto.DataType values used here. */
const FLOAT = 1;
const INT64 = 7;

/** AttributeProto.AttributeType values. */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** An attribute value: numbers are INT when whole and not marked as floats; use `floatAttr` to force FLOAT. */
export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

export const floatAttr = (f: number): { float: number } => ({ float: f });

/** The opsets the exporter writes (ONNX Runtime 1.31 reads up to 23), and the IR version each needs. */
export const MIN_OPSET = 17;
export const MAX_OPSET = 21;

export function irVersionFor(opset: number): number {
  // ONNX's versioning table: opset 17-18 ship with IR 8, 19-20 with IR 9, 21 with IR 10.
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

let schema: protobuf.Root | undefined;

function onnxSchema(): protobuf.Root {
  // keepCase: the messages are filled under onnx.proto's own field names (op_type, raw_data, ...).
  schema ??= protobuf.parse(fs.readFileSync(path.join(__dirname, 'onnx.proto'), 'utf8'), { keepCase: true }).root;
  return schema;
}

interface NodeSpec {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute: Array<Record<string, unknown>>;
}

interface TensorSpec {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** A graph input or output: a float32 tensor whose dims are sizes or symbolic names ('batch'). */
export interface ValueSpec {
  name: string;
  dims: Array<number | string>;
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian; so is every platform Node.js runs on that this project supports.
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: Buffer.from(v, 'utf8') };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}=${v}: a whole number is expected (floatAttr for floats)`);
    return { name, type: ATTR.INT, i: v };
  }
  if (Array.isArray(v)) {
    if (!v.every(Number.isInteger)) throw new Error(`attribute ${name}: whole numbers are expected`);
    return { name, type: ATTR.INTS, ints: v };
  }
  if ('float' in v) return { name, type: ATTR.FLOAT, f: v.float };
  return { name, type: ATTR.FLOATS, floats: v.floats };
}

/**
 * Nodes in topological order (the order they are added), initializers, inputs and outputs. Value names
 * are made unique by the builder; initializer names are the callers' (parameter names stay readable).
 */
export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly initializerNames = new Set<string>();
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private readonly used = new Map<string, number>();
  private readonly constants = new Map<string, string>();

  constructor(readonly opset: number) {
    if (!(Number.isInteger(opset) && opset >= MIN_OPSET && opset <= MAX_OPSET)) {
      throw new Error(`ONNX opset ${opset} is not supported: choose ${MIN_OPSET} to ${MAX_OPSET}`);
    }
  }

  /** A value name not used before, from a readable stem. */
  fresh(stem: string): string {
    const base = stem.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    const n = this.used.get(base) ?? 0;
    this.used.set(base, n + 1);
    return n === 0 && !this.initializerNames.has(base) ? base : `${base}_${n}`;
  }

  addInput(spec: ValueSpec): string {
    this.inputs.push(spec);
    this.used.set(spec.name, 1);
    return spec.name;
  }

  addOutput(value: string, spec: ValueSpec): void {
    // Graph outputs are named; an Identity gives the last value the output's name.
    this.node('Identity', [value], {}, spec.name, spec.name);
    this.outputs.push(spec);
  }

  /** A float32 initializer under `name` (made unique if taken). */
  floats(name: string, data: Float32Array | number[], dims: number[]): string {
    const a = data instanceof Float32Array ? data : Float32Array.from(data);
    const count = dims.reduce((p, d) => p * d, 1);
    if (a.length !== count) throw new Error(`initializer ${name}: ${a.length} values for dims [${dims.join(', ')}]`);
    return this.addInitializer(name, dims, FLOAT, bytesOf(a));
  }

  /** An int64 initializer (shapes, axes, indices), shared between identical uses. */
  ints(values: number[], dims: number[] = [values.length], stem = 'const'): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.addInitializer(stem, dims, INT64, bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))));
    this.constants.set(key, name);
    return name;
  }

  /** A float32 constant shared between identical uses (e.g. 0.5, 1, √½). */
  scalar(value: number, stem = 'const'): string {
    const key = `f32:${value}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.floats(stem, [value], []);
    this.constants.set(key, name);
    return name;
  }

  private addInitializer(name: string, dims: number[], dataType: number, raw: Uint8Array): string {
    const unique = this.fresh(name);
    this.initializerNames.add(unique);
    this.initializers.push({ name: unique, dims, data_type: dataType, raw_data: raw });
    return unique;
  }

  /**
   * Adds a node; returns its (first) output's name. `outputs` > 1 returns names via `nodeMulti`.
   * `stem` names the output after what it computes (module path and op).
   */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, stem?: string, outName?: string): string {
    return this.nodeMulti(op, inputs, 1, attrs, stem, outName)[0];
  }

  nodeMulti(op: string, inputs: string[], outputs: number, attrs: Record<string, AttrValue | undefined> = {},
    stem?: string, outName?: string): string[] {
    const s = stem ?? op;
    const outs = Array.from({ length: outputs }, (_, i) => (i === 0 && outName) ? outName : this.fresh(outputs > 1 ? `${s}:${i}` : s));
    const attribute_ = Object.entries(attrs).filter(([, v]) => v !== undefined)
      .map(([k, v]) => attribute(k, v as AttrValue));
    this.nodes.push({ op_type: op, input: inputs, output: outs, name: this.fresh(`${s}/${op}`), attribute: attribute_ });
    return outs;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The serialized ModelProto. */
  encode(meta: { producerName: string; producerVersion: string; graphName: string; docString?: string }): Uint8Array {
    const root = onnxSchema();
    const Model = root.lookupType('onnx.ModelProto');
    const valueInfo = (v: ValueSpec): Record<string, unknown> => ({
      name: v.name,
      type: {
        tensor_type: {
          elem_type: FLOAT,
          shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
        },
      },
    });
    const model = {
      ir_version: irVersionFor(this.opset),
      producer_name: meta.producerName,
      producer_version: meta.producerVersion,
      doc_string: meta.docString,
      opset_import: [{ domain: '', version: this.opset }],
      graph: {
        name: meta.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    };
    const message = Model.fromObject(model);
    const err = Model.verify(message);
    if (err) throw new Error(`ONNX model does not verify against onnx.proto: ${err}`);
    return Model.encode(message).finish();
  }
}
