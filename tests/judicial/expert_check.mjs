// An expert's check of an extracted judicial package with public npm tools only:
// @openzeppelin/merkle-tree for the proofs, @metamask/eth-sig-util for the signatures.
// Usage: node expert_check.mjs <extracted package dir>; prints a JSON summary.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(join(process.cwd(), "package.json"));
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const {
  recoverTypedSignature,
  SignTypedDataVersion,
  TypedDataUtils,
} = require("@metamask/eth-sig-util");
const { keccak_256 } = require("@noble/hashes/sha3");
const hex = (bytes) => "0x" + Buffer.from(bytes).toString("hex");

const dir = process.argv[2];
const read = (name) => readFileSync(join(dir, name), "utf8");
const types = JSON.parse(read("records/eip712-types.json"));
const merkle = JSON.parse(read("proofs/merkle.json"));

const proofs = merkle.proofs.map((p) =>
  StandardMerkleTree.verify(p.root, p.leafEncoding, p.value, p.proof),
);

const recover = (line) => {
  const rec = JSON.parse(line);
  const data = {
    types: { EIP712Domain: types.EIP712Domain, [rec.type]: types[rec.type] },
    primaryType: rec.type,
    domain: rec.domain,
    message: rec.message,
  };
  const sigs = Buffer.concat(rec.signatures.map((s) => Buffer.from(s.slice(2), "hex")));
  return {
    type: rec.type,
    message: rec.message,
    recordHash: hex(TypedDataUtils.eip712Hash(data, SignTypedDataVersion.V4)),
    signaturesHash: hex(keccak_256(sigs)),
    signers: rec.signatures.map((signature) =>
      recoverTypedSignature({ data, signature, version: SignTypedDataVersion.V4 }),
    ),
  };
};
const jsonl = (...names) =>
  names.map(read).join("").split("\n").filter((l) => l.trim());
const signers = jsonl("records/steps.jsonl", "records/unchained.jsonl").map(recover);
// Who is who: profiles and disclosures, outside the step chain.
const identities = jsonl("records/identities.jsonl").map(recover);
console.log(JSON.stringify({ proofs, signers, identities }));
