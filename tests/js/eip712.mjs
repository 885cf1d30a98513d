// Cross-check for evidence/records.py: MetaMask's own EIP-712 implementation.
// stdin: JSON [{"typedData": {...eth_signTypedData_v4 payload...}, "privateKey": "0x…"}]
// (uints as decimal strings, bytes32 as 0x-hex). stdout: JSON [{digest, domainSeparator,
// signature, recovered}] computed by @metamask/eth-sig-util (the library MetaMask uses
// for eth_signTypedData_v4), never by our code.
import { readFileSync } from "node:fs";
import {
  SignTypedDataVersion,
  TypedDataUtils,
  recoverTypedSignature,
  signTypedData,
} from "@metamask/eth-sig-util";

const V4 = SignTypedDataVersion.V4;
const hex = (buf) => "0x" + Buffer.from(buf).toString("hex");
const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map(({ typedData, privateKey }) => {
  const digest = hex(TypedDataUtils.eip712Hash(typedData, V4));
  const domainSeparator = hex(
    TypedDataUtils.hashStruct("EIP712Domain", typedData.domain, typedData.types, V4),
  );
  const result = { digest, domainSeparator };
  if (privateKey) {
    const key = Buffer.from(privateKey.replace(/^0x/, ""), "hex");
    result.signature = signTypedData({ privateKey: key, data: typedData, version: V4 });
    result.recovered = recoverTypedSignature({
      data: typedData,
      signature: result.signature,
      version: V4,
    });
  }
  return result;
});
process.stdout.write(JSON.stringify(out));
