// A real IPFS node for tests: Helia 7 with no networking, serving the subset of kubo's
// RPC API (https://docs.ipfs.tech/reference/kubo/rpc/) that chainarb uses, so the Python
// kubo client can be tested without a kubo binary (none installs on these machines).
//
// Rules:
// - Listens on 127.0.0.1 only and never dials out: no libp2p, no block brokers, no
//   routers. Blocks live in a blockstore-fs directory (one file per block, named by the
//   multibase base32 of the multihash); pins live in memory (they do not survive a
//   restart; tests start a fresh node).
// - `add` honours kubo's parameters: cid-version, raw-leaves (default: on for CIDv1),
//   chunker=size-N (default 262144), pin (default true); the layout is balanced with 174
//   links per node, as kubo's. So CIDs equal kubo's.
// - Errors are kubo's: HTTP 500 with {"Message", "Code": 0, "Type": "error"}; booleans
//   accept true/false in any case (ipfshttpclient sends "True").
// - add buffers the upload in memory (undici's multipart parser): fine for tests, not
//   for multi-GB uploads.
//
// usage: node scripts/ipfs-node.mjs --repo DIR [--port N]   (N=0: any free port)
// prints "listening on http://127.0.0.1:PORT" once ready; stops on SIGTERM/SIGINT.
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

// Node 20 lacks Promise.withResolvers (Node 22 has it); Helia's dependencies call it.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

// Deep import of the Helia class: the package entry point also loads libp2p, bitswap and
// HTTP routing (createHelia), which we do not want and which fail on Node 20.
const heliaModule = fileURLToPath(new URL('../node_modules/helia/dist/src/helia.js', import.meta.url))
const { Helia } = await import(heliaModule)
const { FsBlockstore } = await import('blockstore-fs')
const { MemoryDatastore } = await import('datastore-core')
const { unixfs } = await import('@helia/unixfs')
const { fixedSize } = await import('ipfs-unixfs-importer/chunker')
const { balanced } = await import('ipfs-unixfs-importer/layout')
const dagPb = await import('@ipld/dag-pb')
const { CID } = await import('multiformats/cid')
const { sha256 } = await import('multiformats/hashes/sha2')

const { values: opts } = parseArgs({
  options: { repo: { type: 'string' }, port: { type: 'string', default: '0' } }
})
if (!opts.repo) {
  console.error('usage: node scripts/ipfs-node.mjs --repo DIR [--port N]')
  process.exit(2)
}

const blockstore = new FsBlockstore(opts.repo)
const helia = new Helia({
  name: 'chainarb-test-node',
  version: '1',
  blockstore,
  datastore: new MemoryDatastore(),
  blockBrokers: [],
  routers: []
})
await helia.start()
const fs = unixfs(helia)

class ApiError extends Error {}

function flag (params, name, fallback) {
  const v = params.get(name)
  if (v === null || v === '') return fallback
  if (/^(true|1)$/i.test(v)) return true
  if (/^(false|0)$/i.test(v)) return false
  throw new ApiError(`invalid boolean for ${name}: ${v}`)
}

function cidArg (params) {
  const arg = params.get('arg')
  if (!arg) throw new ApiError('argument "ipfs-path" is required')
  try {
    return CID.parse(arg.replace(/^\/ipfs\//, ''))
  } catch (err) {
    throw new ApiError(`invalid path "${arg}": ${err.message}`)
  }
}

async function readAll (iterable) {
  const parts = []
  let n = 0
  for await (const p of iterable) { parts.push(p); n += p.length }
  return Buffer.concat(parts, n)
}

async function getLocal (cid) {
  if (!(await blockstore.has(cid))) throw new ApiError(`block was not found locally (offline): ${cid}`)
  return readAll(blockstore.get(cid))
}

async function tsize (cid) {
  // kubo's "Size": the root block plus every block below it (sum of link Tsizes)
  const block = await getLocal(cid)
  if (cid.code !== dagPb.code) return block.length
  return dagPb.decode(block).Links.reduce((sum, l) => sum + (l.Tsize ?? 0), block.length)
}

async function pin (cid) {
  if (await helia.pins.isPinned(cid)) return // kubo: pinning twice is not an error
  await getLocal(cid) // a clear error for a missing root instead of a network lookup
  for await (const _ of helia.pins.add(cid, { offline: true })) { /* marks every block */ }
}

function json (res, body) {
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body) + '\n')
}

async function formFiles (req) {
  const request = new Request('http://node/', { method: 'POST', headers: req.headers, body: req, duplex: 'half' })
  const form = await request.formData()
  const files = []
  for (const [, value] of form) if (typeof value !== 'string') files.push(value)
  if (files.length === 0) throw new ApiError('file argument "path" is required')
  return files
}

const routes = {
  async version (req, res) {
    json(res, { Version: helia.version ?? 'helia-7', Commit: '', Repo: '', System: `node/${process.version}`, Golang: '' })
  },

  async add (req, res, params) {
    const cidVersion = Number(params.get('cid-version') ?? 0)
    if (cidVersion !== 0 && cidVersion !== 1) throw new ApiError(`unknown CID version ${cidVersion}`)
    const rawLeaves = flag(params, 'raw-leaves', cidVersion === 1)
    const chunker = params.get('chunker') ?? 'size-262144'
    const m = /^size-(\d+)$/.exec(chunker)
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 1048576) throw new ApiError(`unsupported chunker "${chunker}" (only size-N up to 1 MiB)`)
    const doPin = flag(params, 'pin', true)
    const lines = []
    for (const file of await formFiles(req)) {
      const cid = await fs.addByteStream(file.stream(), {
        cidVersion,
        rawLeaves,
        chunker: fixedSize({ chunkSize: Number(m[1]) }),
        layout: balanced({ maxChildrenPerNode: 174 }),
        reduceSingleLeafToSelf: true
      })
      if (doPin) await pin(cid)
      lines.push(JSON.stringify({ Name: file.name || cid.toString(), Hash: cid.toString(), Size: String(await tsize(cid)) }))
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Chunked-Output': '1' })
    res.end(lines.join('\n') + '\n')
  },

  async cat (req, res, params) {
    const cid = cidArg(params)
    await getLocal(cid) // fail with a proper 500 before any byte is sent
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Stream-Output': '1' })
    try {
      for await (const chunk of fs.cat(cid, { offline: true })) {
        if (!res.write(chunk)) await new Promise(resolve => res.once('drain', resolve))
      }
      res.end()
    } catch (err) {
      res.destroy(err) // the status is already sent: abort so the client sees a broken stream
    }
  },

  async 'block/get' (req, res, params) {
    const block = await getLocal(cidArg(params))
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': block.length })
    res.end(block)
  },

  async 'block/stat' (req, res, params) {
    const cid = cidArg(params)
    const block = await getLocal(cid)
    json(res, { Key: cid.toString(), Size: block.length })
  },

  async 'block/put' (req, res, params) {
    const [file] = await formFiles(req)
    const bytes = new Uint8Array(await file.arrayBuffer())
    if (bytes.length > 2 * 1024 * 1024) throw new ApiError(`produced block is over 2MiB: ${bytes.length} bytes`)
    const mhtype = params.get('mhtype') ?? 'sha2-256'
    if (mhtype !== 'sha2-256') throw new ApiError(`unsupported mhtype ${mhtype}`)
    const format = params.get('format')
    const codecName = params.get('cid-codec') ?? (format === 'v0' ? 'dag-pb' : 'raw')
    const codes = { raw: 0x55, 'dag-pb': 0x70 }
    if (!(codecName in codes)) throw new ApiError(`unsupported cid-codec ${codecName}`)
    if (codecName === 'dag-pb') dagPb.decode(bytes) // kubo validates dag-pb on put
    const digest = await sha256.digest(bytes)
    const cid = format === 'v0' ? CID.createV0(digest) : CID.createV1(codes[codecName], digest)
    await helia.blockstore.put(cid, bytes)
    if (flag(params, 'pin', false)) await pin(cid)
    json(res, { Key: cid.toString(), Size: bytes.length })
  },

  async 'pin/add' (req, res, params) {
    const cid = cidArg(params)
    if (!flag(params, 'recursive', true)) throw new ApiError('only recursive pins are supported')
    await pin(cid)
    json(res, { Pins: [cid.toString()] })
  },

  async 'pin/ls' (req, res, params) {
    const type = params.get('type') ?? 'all'
    if (!['all', 'recursive'].includes(type)) throw new ApiError(`only recursive pins exist here, not ${type}`)
    const keys = {}
    if (params.get('arg')) {
      const cid = cidArg(params)
      if (!(await helia.pins.isPinned(cid))) throw new ApiError(`path '${params.get('arg')}' is not pinned`)
      keys[cid.toString()] = { Type: 'recursive' }
    } else {
      for await (const p of helia.pins.ls()) keys[p.cid.toString()] = { Type: 'recursive' }
    }
    json(res, { Keys: keys })
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1')
  const name = url.pathname.replace(/^\/api\/v0\//, '')
  const route = url.pathname.startsWith('/api/v0/') ? routes[name] : undefined
  if (route === undefined) {
    res.writeHead(404, { 'Content-Type': 'text/plain' })
    res.end('404 page not found\n')
    return
  }
  if (req.method !== 'POST') { // kubo refuses GET on the RPC API (CSRF protection)
    res.writeHead(405, { 'Content-Type': 'text/plain' })
    res.end('405 - Method Not Allowed\n')
    return
  }
  try {
    await route(req, res, url.searchParams)
  } catch (err) {
    if (res.headersSent) { res.destroy(err); return }
    res.writeHead(500, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ Message: err.message, Code: 0, Type: 'error' }) + '\n')
    if (!(err instanceof ApiError)) console.error(err)
  }
})

server.listen(Number(opts.port), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})

async function stop () {
  server.close()
  server.closeAllConnections()
  await helia.stop()
  process.exit(0)
}
process.on('SIGTERM', stop)
// Helia's DAG walker can reject outside the awaited promise (a block missing below a pinned
// root): the request has failed already; keep serving the others.
process.on('unhandledRejection', err => console.error('unhandled rejection:', err?.message ?? err))
process.on('SIGINT', stop)
