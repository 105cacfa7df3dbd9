// Runs SQL statements in an in-memory DuckDB (@duckdb/node-api) for the
// Parquet interop test: COPY ... TO makes Parquet files with DuckDB's own
// writer, SELECT ... FROM read_parquet reads files shardload wrote.
// Usage: node make_parquet.mjs STATEMENTS.json  (a JSON array of strings)
// Prints a JSON array with each statement's rows (arrays of values; bigints
// and other non-JSON values as strings).
import { readFileSync } from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";

const statements = JSON.parse(readFileSync(process.argv[2], "utf8"));
const db = await DuckDBInstance.create(":memory:");
const con = await db.connect();
const results = [];
for (const sql of statements) {
  const reader = await con.runAndReadAll(sql);
  results.push(reader.getRows().map((row) => row.map((v) =>
    typeof v === "bigint" ? v.toString() : v === null || typeof v !== "object" ? v : String(v))));
}
process.stdout.write(JSON.stringify(results));
