// Helper of bench_tables.py (Node.js, npm @duckdb/node-api and apache-arrow):
//   node tables.mjs make DIR_PARQUET DIR_ARROW ROWS_PER_SHARD SHARDS
//     8 random DOUBLE columns c0..c7 per shard, written by DuckDB as snappy
//     Parquet (its default row groups) and the same values as Arrow IPC files.
//   node tables.mjs plain DIR_PARQUET DIR_PLAIN
//     the same tables again as uncompressed Parquet (DuckDB, its default
//     row groups and pages): the random-row gather's value-level path.
//   node tables.mjs scan DIR THREADS
//     DuckDB decodes every value (count + sums, no table materialised);
//     prints {"seconds": query time, "threads": T} on stdout.
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { writeFileSync, renameSync, mkdirSync, readdirSync } from 'node:fs';

const cols = Array.from({ length: 8 }, (_, i) => `c${i}`);

async function make(pq, arw, rows, shards) {
  mkdirSync(pq, { recursive: true });
  mkdirSync(arw, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  for (let s = 0; s < shards; s++) {
    const name = `shard_${String(s).padStart(4, '0')}`;
    await con.run(`SELECT setseed(${(s + 1) / (shards + 2)})`);
    await con.run(`CREATE OR REPLACE TABLE t AS SELECT ${cols.map((c) => `random() AS ${c}`).join(', ')} FROM range(${rows})`);
    await con.run(`COPY t TO '${pq}/${name}.parquet.tmp' (FORMAT parquet, COMPRESSION snappy)`);
    renameSync(`${pq}/${name}.parquet.tmp`, `${pq}/${name}.parquet`);
    const reader = await con.runAndReadAll('SELECT * FROM t');
    const columns = reader.getColumnsObjectJS();
    const arrays = {};
    for (const c of cols) arrays[c] = Float64Array.from(columns[c]);
    writeFileSync(`${arw}/${name}.arrow.tmp`, tableToIPC(tableFromArrays(arrays), 'file'));
    renameSync(`${arw}/${name}.arrow.tmp`, `${arw}/${name}.arrow`);
  }
}

async function scan(dir, threads) {
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  const sql = `SELECT count(*), ${cols.map((c) => `sum(${c})`).join(' + ')} FROM read_parquet('${dir}/shard_*.parquet')`;
  const t0 = process.hrtime.bigint();
  await con.runAndReadAll(sql);
  const t1 = process.hrtime.bigint();
  console.log(JSON.stringify({ seconds: Number(t1 - t0) / 1e9, threads: Number(threads) }));
}

async function plain(pq, out) {
  mkdirSync(out, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  for (const f of readdirSync(pq).filter((n) => n.endsWith('.parquet')).sort()) {
    await con.run(`COPY (SELECT * FROM read_parquet('${pq}/${f}')) TO '${out}/${f}.tmp' (FORMAT parquet, COMPRESSION uncompressed)`);
    renameSync(`${out}/${f}.tmp`, `${out}/${f}`);
  }
}

const [cmd, ...a] = process.argv.slice(2);
if (cmd === 'make') await make(a[0], a[1], Number(a[2]), Number(a[3]));
else if (cmd === 'plain') await plain(a[0], a[1]);
else if (cmd === 'scan') await scan(a[0], a[1]);
else { console.error('usage: tables.mjs make PQ ARROW ROWS SHARDS | plain PQ OUT | scan DIR THREADS'); process.exit(2); }
