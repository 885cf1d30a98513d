// Reads a CAR with @ipld/car (the reference JS implementation), checks every block's
// sha2-256 against its CID, reassembles each root as a UnixFS file with
// ipfs-unixfs-exporter, and optionally re-writes the CAR with CarWriter (same roots,
// same block order) so the caller can compare bytes.
//
// usage: node car_read.mjs IN.car [--rewrite OUT.car]
// prints JSON: {"roots": [...], "blocks": [cid...], "files": {root: sha256hex}}
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createHash } from 'node:crypto'
import { CarReader } from '@ipld/car/reader'
import { CarWriter } from '@ipld/car/writer'
import { sha256 } from 'multiformats/hashes/sha2'
import { exporter } from 'ipfs-unixfs-exporter'

const [input, flag, rewrite] = process.argv.slice(2)
const reader = await CarReader.fromIterable(createReadStream(input))
const roots = await reader.getRoots()
const blocks = []
const byCid = new Map()
for await (const { cid, bytes } of reader.blocks()) {
  const digest = await sha256.digest(bytes)
  if (Buffer.compare(Buffer.from(digest.bytes), Buffer.from(cid.multihash.bytes)) !== 0) {
    throw new Error(`block ${cid} does not match its bytes`)
  }
  blocks.push({ cid, bytes })
  byCid.set(Buffer.from(cid.multihash.bytes).toString("hex"), bytes)
}
const store = {
  async * get (cid) { const b = byCid.get(Buffer.from(cid.multihash.bytes).toString("hex")); if (!b) throw new Error(`missing ${cid}`); yield b },
  async has (cid) { return byCid.has(Buffer.from(cid.multihash.bytes).toString("hex")) }
}
const files = {}
for (const root of roots) {
  const entry = await exporter(root, store)
  const h = createHash('sha256')
  for await (const piece of entry.content()) h.update(piece)
  files[root.toString()] = h.digest('hex')
}
if (flag === '--rewrite') {
  const { writer, out } = CarWriter.create(roots)
  const sink = createWriteStream(rewrite)
  const piping = (async () => { for await (const c of out) { if (!sink.write(c)) await once(sink, 'drain') } sink.end() })()
  for (const b of blocks) await writer.put(b)
  await writer.close()
  await piping
  await once(sink, 'close')
}
process.stdout.write(JSON.stringify({ roots: roots.map(String), blocks: blocks.map(b => b.cid.toString()), files }) + '\n')
