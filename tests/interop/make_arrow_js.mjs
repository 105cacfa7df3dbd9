// Test-data step of tests/interop/test_arrow_writers.py: writes the Parquet
// files with arrow-rs (npm parquet-wasm) and the Arrow IPC files with
// apache-arrow (JavaScript) from column values that the Python side made
// with numpy, so the expected arrays are numpy's own.
//
// Usage: node make_arrow_js.mjs SPEC.json
// SPEC is a JSON array of files to write:
//   {"format": "parquet" | "arrow" | "arrows" (the IPC stream format), "out": PATH, "rows": N,
//    "columns": [{"name", "type" (numpy name: float64, int8, bool, float16...),
//                 "data": PATH of the little-endian values (bool: a byte each),
//                 "valid": PATH of a byte per row (0: null) or null,
//                 "list": d (a FixedSizeList<type>[d] column) or 0}],
//    "batch": rows per record batch (arrow) or row group (parquet),
//    "codec": "LZ4_FRAME" | "ZSTD" | null (arrow),
//    "parquet": {"compression", "writer": "V1" | "V2", "dictionary": bool,
//                "encodings": {column: ENCODING}, "page": bytes}}
// Each file is written under a temporary name and renamed.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as A from "apache-arrow";
import * as P from "parquet-wasm/node";

const require = createRequire(import.meta.url);
const lz4 = require("lz4js");
const zstd = require("@bokuweb/zstd-wasm");

const TYPES = {
  float64: [() => new A.Float64(), Float64Array], float32: [() => new A.Float32(), Float32Array],
  float16: [() => new A.Float16(), Uint16Array], int8: [() => new A.Int8(), Int8Array],
  int16: [() => new A.Int16(), Int16Array], int32: [() => new A.Int32(), Int32Array],
  int64: [() => new A.Int64(), BigInt64Array], uint8: [() => new A.Uint8(), Uint8Array],
  uint16: [() => new A.Uint16(), Uint16Array], uint32: [() => new A.Uint32(), Uint32Array],
  uint64: [() => new A.Uint64(), BigUint64Array], bool: [() => new A.Bool(), Uint8Array],
  // temporal types, stored as the integers shardload loads them as
  date32: [() => new A.DateDay(), Int32Array],
  time64_us: [() => new A.TimeMicrosecond(), BigInt64Array],
  timestamp_us_utc: [() => new A.Timestamp(A.TimeUnit.MICROSECOND, "UTC"), BigInt64Array],
  timestamp_ms: [() => new A.Timestamp(A.TimeUnit.MILLISECOND), BigInt64Array],
  duration_ns: [() => new A.Duration(A.TimeUnit.NANOSECOND), BigInt64Array],
};

function bits(bytes) {
  const out = new Uint8Array(Math.ceil(bytes.length / 8));
  bytes.forEach((b, i) => { if (b) out[i >> 3] |= 1 << (i & 7); });
  return out;
}

function load(path, Ctor) {
  const b = readFileSync(path);
  return new Ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

// Rows [lo, hi) of one column as Arrow Data.
function columnData(col, values, valid, lo, hi) {
  const [makeType] = TYPES[col.type];
  const d = col.list || 1;
  const slice = values.subarray(lo * d, hi * d);
  const data = col.type === "bool" ? bits(slice) : slice;
  let mask = null, nulls = 0;
  if (valid) {
    const v = valid.subarray(lo, hi);
    nulls = v.reduce((n, x) => n + (x ? 0 : 1), 0);
    mask = bits(v);
  }
  if (!col.list)
    return A.makeData({ type: makeType(), length: hi - lo, nullCount: nulls, nullBitmap: mask, data });
  const child = A.makeData({ type: makeType(), length: slice.length, nullCount: 0, data });
  const type = new A.FixedSizeList(d, new A.Field("item", makeType(), false));
  return A.makeData({ type, length: hi - lo, nullCount: nulls, nullBitmap: mask, child });
}

function table(spec) {
  const cols = spec.columns.map((c) => ({
    ...c, values: load(c.data, TYPES[c.type][1]), valid: c.valid ? load(c.valid, Uint8Array) : null,
  }));
  const fields = cols.map((c) => {
    const t = c.list ? new A.FixedSizeList(c.list, new A.Field("item", TYPES[c.type][0](), false))
                     : TYPES[c.type][0]();
    return new A.Field(c.name, t, c.valid !== null);
  });
  const schema = new A.Schema(fields);
  const batches = [];
  const step = spec.batch || spec.rows || 1;
  for (let lo = 0; lo < spec.rows || (spec.rows === 0 && lo === 0); lo += step) {
    const hi = Math.min(spec.rows, lo + step);
    const children = cols.map((c) => columnData(c, c.values, c.valid, lo, hi));
    const data = A.makeData({ type: new A.Struct(fields), length: hi - lo, nullCount: 0, children });
    batches.push(new A.RecordBatch(schema, data));
    if (spec.rows === 0) break;
  }
  return new A.Table(schema, batches);
}

function arrowBytes(spec) {
  const type = spec.codec ? A.CompressionType[spec.codec] : null;
  const Writer = spec.format === "arrows" ? A.RecordBatchStreamWriter : A.RecordBatchFileWriter;
  const writer = new Writer({ compressionType: type });
  writer.writeAll(table(spec));
  return writer.toUint8Array(true);
}

function parquetBytes(spec) {
  const o = spec.parquet || {};
  let b = new P.WriterPropertiesBuilder()
    .setCompression(P.Compression[o.compression || "UNCOMPRESSED"])
    .setWriterVersion(P.WriterVersion[o.writer || "V1"])
    .setDictionaryEnabled(o.dictionary !== false);
  if (spec.batch) b = b.setMaxRowGroupSize(spec.batch);
  if (o.page) b = b.setDataPageSizeLimit(o.page);
  for (const [col, enc] of Object.entries(o.encodings || {}))
    b = b.setColumnDictionaryEnabled(col, false).setColumnEncoding(col, P.Encoding[enc]);
  const ipc = A.tableToIPC(table(spec), "stream");
  return P.writeParquet(P.Table.fromIPCStream(ipc), b.build());
}

await zstd.init();
A.compressionRegistry.set(A.CompressionType.LZ4_FRAME, { encode: (d) => lz4.compress(d) });
A.compressionRegistry.set(A.CompressionType.ZSTD, { encode: (d) => zstd.compress(d, 3) });

for (const spec of JSON.parse(readFileSync(process.argv[2], "utf8"))) {
  const bytes = spec.format === "parquet" ? parquetBytes(spec) : arrowBytes(spec);
  writeFileSync(spec.out + ".tmp", bytes);
  renameSync(spec.out + ".tmp", spec.out);
}
