// `node floor-get.js <registry url> <blobs.json> [node:http|got|fetch]`: the GET floor (or another
// client's figure) in a process of its own (floorGetProcess); prints the wall time in milliseconds.
import { readFile } from 'node:fs/promises';
import { floorGet, type FloorBlob, type HttpClient } from './floor.js';

const [registryUrl, list, client] = process.argv.slice(2);
const blobs = JSON.parse(await readFile(list!, 'utf8')) as FloorBlob[];
process.stdout.write(`${await floorGet(registryUrl!, blobs, (client ?? 'node:http') as HttpClient)}\n`);
