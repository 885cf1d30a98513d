// Independent CIDs for the Python importer's cross-check: npm ipfs-unixfs-importer 17
// with kubo's settings (fixedSize 262144, balanced 174, dag-pb leaves for CIDv0, raw
// leaves for CIDv1). Its defaults differ (raw leaves, CIDv1), so every option is explicit.
//
// usage: node unixfs_import.mjs <cid-version> FILE... [--car OUT.car]
//        [--chunk-size N] [--max-children N]  (small values exercise deep trees cheaply)
// prints one JSON line per file: {"file", "cid"}; with --car, writes the blocks of the
// last file (in the importer's order) to OUT.car with @ipld/car's CarWriter.
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CarWriter } from '@ipld/car/writer'

const args = process.argv.slice(2)
const carAt = args.indexOf('--car')
const carOut = carAt >= 0 ? args.splice(carAt, 2)[1] : null
function option (name, fallback) {
  const at = args.indexOf(name)
  return at >= 0 ? Number(args.splice(at, 2)[1]) : fallback
}
const chunkSize = option('--chunk-size', 262144)
const maxChildrenPerNode = option('--max-children', 174)
const cidVersion = Number(args.shift())
if (cidVersion !== 0 && cidVersion !== 1) throw new Error('cid version must be 0 or 1')

for (const [i, file] of args.entries()) {
  const blocks = []
  const keep = carOut !== null && i === args.length - 1
  const blockstore = {
    async put (cid, bytes) { if (keep) blocks.push({ cid, bytes }); return cid }
  }
  let root
  for await (const entry of importer([{ content: createReadStream(file, { highWaterMark: 262144 }) }], blockstore, {
    cidVersion,
    rawLeaves: cidVersion === 1,
    chunker: fixedSize({ chunkSize }),
    layout: balanced({ maxChildrenPerNode }),
    reduceSingleLeafToSelf: true,
    blockWriteConcurrency: 1
  })) root = entry.cid
  process.stdout.write(JSON.stringify({ file, cid: root.toString() }) + '\n')
  if (keep) {
    const { writer, out } = CarWriter.create([root])
    const sink = createWriteStream(carOut)
    const piping = (async () => { for await (const c of out) { if (!sink.write(c)) await once(sink, 'drain') } sink.end() })()
    for (const b of blocks) await writer.put(b)
    await writer.close()
    await piping
    await once(sink, 'close')
  }
}
