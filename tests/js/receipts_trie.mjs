// Cross-check for evidence/blockproof.py: the receipts trie by @ethereumjs/trie only.
// stdin: JSON {"tries": [{"values": ["0x<receipt>", ...]}],
//              "verify": [{"root": "0x..", "index": n, "proof": ["0x<node>", ...]}]}
// stdout: JSON {"tries": [{root, proofs (one per value, nodes as 0x-hex)}],
//               "verify": [{ok, value (0x-hex or null), error}]}
// Keys are RLP(index), as in a block's receipts trie.
import { readFileSync } from "node:fs";
import { Trie } from "@ethereumjs/trie";

const hexToBytes = (h) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ""), "hex"));
const bytesToHex = (b) => "0x" + Buffer.from(b).toString("hex");
// RLP of a non-negative integer (the trie key): 0x80 for 0, the byte itself below 0x80,
// else 0x80 + length followed by the big-endian bytes.
function rlpInt(i) {
  if (i === 0) return Uint8Array.of(0x80);
  if (i < 0x80) return Uint8Array.of(i);
  const bytes = [];
  for (let n = i; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.of(0x80 + bytes.length, ...bytes);
}

const input = JSON.parse(readFileSync(0, "utf8"));
const key = rlpInt;
const tries = [];
for (const { values } of input.tries ?? []) {
  const trie = new Trie();
  for (const [i, v] of values.entries()) await trie.put(key(i), hexToBytes(v));
  const proofs = [];
  for (const i of values.keys()) proofs.push((await trie.createProof(key(i))).map(bytesToHex));
  tries.push({ root: bytesToHex(trie.root()), proofs });
}
const verify = [];
for (const { root, index, proof } of input.verify ?? []) {
  try {
    const value = await Trie.verifyProof(key(index), proof.map(hexToBytes), {
      root: hexToBytes(root),
    });
    verify.push({ ok: value !== null, value: value === null ? null : bytesToHex(value) });
  } catch (err) {
    verify.push({ ok: false, value: null, error: String(err.message ?? err) });
  }
}
process.stdout.write(JSON.stringify({ tries, verify }));
