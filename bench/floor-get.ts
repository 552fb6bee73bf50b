// `node floor-get.js <registry url> <blobs.json>`: the GET floor in a process of its own
// (floorGetProcess); prints the wall time in milliseconds.
import { readFile } from 'node:fs/promises';
import { floorGet, type FloorBlob } from './floor.js';

const [registryUrl, list] = process.argv.slice(2);
const blobs = JSON.parse(await readFile(list!, 'utf8')) as FloorBlob[];
process.stdout.write(`${await floorGet(registryUrl!, blobs)}\n`);
