// Cross-check for evidence/merkle.py: OpenZeppelin's own StandardMerkleTree.
// stdin: JSON {"trees": [{"types": [...], "values": [[...], ...]}], "load": [dump, ...]}
// stdout: JSON {"trees": [{root, proofs (one per value, in value order), dump}],
//               "load": [{root, ok}]} computed by @openzeppelin/merkle-tree only.
import { readFileSync } from "node:fs";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

const input = JSON.parse(readFileSync(0, "utf8"));
const trees = (input.trees ?? []).map(({ types, values }) => {
  const tree = StandardMerkleTree.of(values, types);
  const proofs = values.map((_, i) => tree.getProof(i));
  for (const [i, v] of values.entries()) {
    if (!StandardMerkleTree.verify(tree.root, types, v, proofs[i])) throw new Error("self-check");
  }
  return { root: tree.root, proofs, dump: tree.dump() };
});
const load = (input.load ?? []).map((dump) => {
  try {
    const tree = StandardMerkleTree.load(dump);
    return { ok: true, root: tree.root };
  } catch (err) {
    return { ok: false, error: String(err.message ?? err) };
  }
});
process.stdout.write(JSON.stringify({ trees, load }));
