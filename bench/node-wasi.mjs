// node-wasi.mjs - runs a wasm32-wasi command on node's V8 through the
// node:wasi module, for the benchmark's node column.
//
// usage: node --no-warnings node-wasi.mjs APP.wasm [ARGS...]
// The guest's argv[0] is APP.wasm as given; it gets no environment and no
// directories. The exit status is the guest's.
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node --no-warnings node-wasi.mjs APP.wasm [ARGS...]');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, {
  wasi_snapshot_preview1: wasi.wasiImport,
});
process.exitCode = wasi.start(instance);
